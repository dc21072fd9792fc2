"""Fixtures of the model tests."""
import pytest
import torch


@pytest.fixture
def one_thread():
    """float32 results depend on the thread count: compare with one."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
