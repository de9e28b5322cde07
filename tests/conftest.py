import pytest

from tests.tiny_models import build_tiny_shapes_folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A random-weight model of tiny-shapes' architecture, exported in its shipping format."""
    return build_tiny_shapes_folder(tmp_path_factory.mktemp("tiny") / "tiny-test")
