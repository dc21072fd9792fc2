"""``benchmarks/epoch_time.py`` bookkeeping: the loss of every epoch on
both sides, and the epoch durations."""
import json


def test_our_epoch_loss_is_the_mean_of_its_iterations_over_stages(
        epoch_time, tmp_path):
    # two stages (a resumed run): epoch 2's iterations in both
    rows = {'20260101_000000': [dict(epoch=1, iter=1, loss=0.9),
                                dict(epoch=1, iter=2, loss=0.7),
                                dict(epoch=2, iter=3, loss=0.5),
                                dict(epoch=2, step=2, **{'irstd/IoU': 0.1})],
            '20260101_010000': [dict(epoch=2, iter=4, loss=0.2)]}
    for stage, lines in rows.items():
        folder = tmp_path / stage / 'vis_data'
        folder.mkdir(parents=True)
        (folder / 'scalars.json').write_text(
            ''.join(json.dumps(line) + '\n' for line in lines))
    assert epoch_time.our_epoch_losses(str(tmp_path)) == [0.8, 0.35]


def test_reference_loss_lines_are_parsed(epoch_time):
    printed = ('NUAA-SIRST\tACM\n'
               'Dec 08 00:30:01 Epoch---1, total_loss---0.998900,\n'
               'Dec 08 00:30:22 Epoch---2, total_loss---0.998012,\n')
    assert [(int(epoch), float(loss)) for epoch, loss in
            epoch_time.REFERENCE_LOSS.findall(printed)] == [(1, 0.9989),
                                                           (2, 0.998012)]


def test_epoch_durations_run_from_a_training_start_to_the_next_start(
        epoch_time):
    starts = [('TrainSetLoader', 0.0), ('TrainSetLoader', 2.5),
              ('TestSetLoader', 4.0), ('exit', 9.0)]
    assert epoch_time.epoch_seconds(starts) == [2.5, 1.5]
