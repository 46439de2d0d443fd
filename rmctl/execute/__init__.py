"""The only code in rmctl that changes a machine: hosts and the executor."""
