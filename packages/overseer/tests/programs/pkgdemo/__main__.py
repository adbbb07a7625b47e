import sys

print("pkgdemo main", sys.argv[1:], __name__)
