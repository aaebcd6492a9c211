# The in-memory connector of the original H5PyVOL's HANDOVER.md ("H5PyVOL
# example: an in-memory connector"), as that document shows it: constructors
# that skip super().__init__(), a dataset that only annotates `self.array`
# and keeps the buffer it is given, methods named after the VOL callbacks.
# Only the import line is added (the document leaves it out).
from h5pyvol import H5VOL, H5File, H5Dataset


class Dataset(H5Dataset):
	def __init__(self, name):
		self.name = name
		self.array: []

	def H5VL_python_dataset_read(self, mem_type_id, mem_space_id, file_space_id, xfer_plist_id, req):
		print('Reading dataset ' + self.name + ' = ' + str(self.array))
		return self.array

	def H5VL_python_dataset_write(self, mem_type_id, mem_space_id, file_space_id, xfer_plist_id, buffer, req):
		print('Writing dataset ' + self.name + ' = ' + str(buffer))
		self.array = buffer

class File(H5File):
	def __init__(self, name):
		self.name = name
		self.datasets: dict = {}

	def H5VL_python_dataset_create(self, loc_params, name, gcpl_id, gapl_id, dxpl_id, req) -> Dataset:
		dataset_name = self.name + '/' + name
		print('Creating dataset ' + dataset_name)
		dataset = Dataset(dataset_name)
		self.datasets[dataset_name] = dataset
		return dataset

class InMemoryVOL(H5VOL):
	def __init__(self):
		self.files: dict = {}

	def H5VL_python_file_create(self, name, flags, fcpl_id, fapl_id, dxpl_id, req) -> H5File:
		print('Creating file ' + name)
		new_file = File(name)
		self.files[name] = new_file
		return new_file
