"""Training tracks: metrics at every saved step of a training run, and choosing a step by them.

:mod:`~slbench.tracking.tracker` evaluates steps with the settings of one track (shared by
``slbench track`` and ``slbench train --eval-every``); :mod:`~slbench.tracking.folder`
evaluates the checkpoints on disk. The stored format is :mod:`reports.tracks`.
"""

from slbench.tracking.folder import track_folder
from slbench.tracking.tracker import TrackOptions, Tracker, open_tracker

__all__ = ["TrackOptions", "Tracker", "open_tracker", "track_folder"]
