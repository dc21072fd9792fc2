# SeRankDet's schedule (serankdet_500e.py) for 1500 epochs, the length the
# reference's NUAA-SIRST and NUDT-SIRST configs run whatever their names say
# (800e, 500e); the learning rate schedule ends at the new length.
_base_ = ['./serankdet_500e.py']
from serankdet import recipes  # noqa: E402

max_epochs = 1500
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = recipes.serankdet_param_scheduler(max_epochs)
