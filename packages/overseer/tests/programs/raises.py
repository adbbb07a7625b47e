def inner():
    raise ValueError("the script's own failure")


inner()
