"""``python -m slbench`` (used by ``torchrun --nproc_per_node N -m slbench train ...``)."""

from slbench.cli import main

main()
