/* The smallest HDF5 program: open one existing file read-only and close it.
 *
 *     open_close FILE [rss]
 *
 * bench/suite/startup.py times the whole process, so natively it shows the
 * library's own start-up, and through H5PyVOL also booting Python and the
 * connector.  With "rss" it prints its peak RSS in KiB (VmHWM; getrusage
 * would include the spawning process's peak, which Linux carries across
 * exec); the timed runs leave that out. */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 1;
    hid_t file = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0 || H5Fclose(file) < 0)
        return 2;
    if (argc > 2 && strcmp(argv[2], "rss") == 0) {
        char line[256];
        FILE *status = fopen("/proc/self/status", "r");
        while (status && fgets(line, sizeof line, status))
            if (strncmp(line, "VmHWM:", 6) == 0)
                fputs(line + 6, stdout);
    }
    return 0;
}
