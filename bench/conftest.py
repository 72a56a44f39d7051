import os
import sys

# bench/ is not a package: make ``import harness`` work from every benchmark file.
sys.path.insert(0, os.path.dirname(__file__))
