"""Built-in modules, one class per file; see `celeryroot.module` for the contract."""
