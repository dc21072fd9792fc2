default_scope = 'serankdet'
runner_type = 'IRSTDRunner'
# each schedule sets train_cfg and log_processor (by epoch or by iteration)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; tools switch to gloo when CUDA is unavailable
    dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='IRSTDVisualizer', vis_backends=vis_backends, name='visualizer')
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=42)
# Stop at the first NaN/inf loss (the diverged weights are never saved) and
# keep the generator states in checkpoints so --resume is exact.
custom_hooks = [dict(type='NonFiniteLossHook'), dict(type='RNGStateHook')]
