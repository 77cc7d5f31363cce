project = 'migrator'
copyright = '2026, migrator developers'
extensions = []
master_doc = 'index'
exclude_patterns = []
html_theme = 'alabaster'
