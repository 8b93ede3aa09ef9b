class Bare:
    pass
