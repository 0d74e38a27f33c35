"""The composition root: the `helpline` command and the app assembly; the one package that imports every layer."""
