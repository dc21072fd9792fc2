# ALCNet (Dai et al., "Attentional Local Contrast Networks for Infrared Small
# Target Detection", TGRS 2021) as BasicIRSTD builds and runs it, the version
# whose numbers are quoted (XinyiYing/BasicIRSTD model/ACM/model_ALCnet.py,
# ASKCResNetFPN, defaults). Note: that network has no local-contrast module;
# it is ACM's encoder with 4 basic blocks per stage and an FPN-like decoder:
# transposed conv + asymmetric fusion at 1/8 and 1/4 (the residual layers it
# also builds are never used), a last transposed conv to 8 channels at 1/2,
# FCN head, bilinear upsampling. One logit map, batch soft-IoU loss.
# Input, loss and test as ACM (configs/_base_/models/acm.py); what differs:
_base_ = ['./acm.py']
model = dict(
    backbone=dict(num_blocks=(4, 4, 4)),
    neck=dict(num_blocks=0, out_channels=8),
    decode_head=dict(in_channels=8))
