"""What a run prints on the console, as opposed to its log file."""
import logging

#: Starts of mmengine's INFO records that go to the log file only: the
#: environment report, the full config, the hook table and the run name
#: (hundreds of lines per run, the same in every run of a config).
FILE_ONLY_PREFIXES = (
    'Config:\n',
    'Hooks will be executed in the following order',
    'Distributed training is not used',
    'Exp name: ',
)
#: mmengine 0.10.7 WARNING records about its own internals that a user
#: cannot act on (raised by mmengine's CheckpointHook, which the toolbox's
#: AtomicCheckpointHook builds on); they go to the log file only.
INTERNAL_WARNINGS = (
    '"FileClient" will be deprecated in future',
    '"HardDiskBackend" is the alias of "LocalBackend"',
)


class ConsoleFilter(logging.Filter):
    """Drops from a console handler the records listed above; the file
    handler keeps everything. ``verbose=True`` drops nothing."""

    def __init__(self, verbose: bool = False):
        super().__init__('serankdet.console')
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        if self.verbose:
            return True
        message = record.getMessage()
        if record.levelno == logging.INFO:
            head = message.lstrip('\n-')
            return not (head.startswith(FILE_ONLY_PREFIXES)
                        or head.startswith('System environment:'))
        if record.levelno == logging.WARNING:
            return not message.startswith(INTERNAL_WARNINGS)
        return True


def quiet_console(logger: logging.Logger, verbose: bool = False) -> None:
    """Install :class:`ConsoleFilter` on the console handlers of
    ``logger`` (not on its file handlers); idempotent."""
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler) or not isinstance(
                handler, logging.StreamHandler):
            continue
        for old in [f for f in handler.filters
                    if isinstance(f, ConsoleFilter)]:
            handler.removeFilter(old)
        handler.addFilter(ConsoleFilter(verbose))
