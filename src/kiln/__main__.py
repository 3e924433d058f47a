from kiln.cli.main import entry

entry()
