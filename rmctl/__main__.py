"""`python -m rmctl`."""

from rmctl.cli import main

if __name__ == "__main__":
    main()
