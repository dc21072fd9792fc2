# The hooks every schedule runs (a schedule file inherits this one and
# changes what differs): log every 50 iterations with an ETA from the recent
# iteration times, keep the last checkpoints and the one with the best test
# IoU, no result panels (tools/test.py --show-dir switches them on).
default_hooks = dict(
    timer=dict(type='RecentIterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=True, interval=10,
                    max_keep_ckpts=2, save_best='irstd/IoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='IRSTDVisualizationHook', draw=False))
