"""Lists the tests h5_api_test reported as failed.

Usage: h5_api_test > out.txt 2>&1; python scripts/api_failures.py out.txt
A test failed when its "Testing ..." line is followed by *FAILED*.
"""
import re, sys
cur = None; fails = []
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"Testing (.*?)(\s{2,}|HDF5-DIAG|\*FAILED\*|PASSED|-SKIP-|$)", line)
    if "Testing" in line and m:
        cur = m.group(1).strip()
    if "*FAILED*" in line and cur:
        fails.append(cur); cur = None
for f in fails: print(f)
