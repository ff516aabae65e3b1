#!/usr/bin/env python3
from renkei.cli import main

if __name__ == "__main__":
    main()
