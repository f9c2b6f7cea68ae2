"""Contract test suites to run over every implementation of an interface (as LensKit ships its
scorer tests): subclass one in your own tests, give it the fixtures it names, and pytest runs
every check on your implementation. One module per interface, each suite with the fixtures it
needs:

- ``embedders``: ``EmbedderContract`` (``Embedder``): ``embedder``.
- ``policies``: ``PolicyContract`` (``ArtworkPolicy``): ``policy``.
- ``rankers``: ``RankerContract`` (``Ranker``): ``ranker``, ``ranking_data``.
- ``rows``: ``RowSourceContract`` (``RowSource``): ``source``, ``page_request``.
- ``scorers``: ``FrameScorerContract`` (``FrameScorer``): ``scorer``.
- ``selectors``: ``RowSelectorContract`` (``RowSelector``): ``selector``.
- ``shots``: ``ShotDetectorContract`` (``ShotDetector``): ``detector``, ``synthetic``.
- ``tags``: ``TaggerContract`` (``Tagger``): ``tagger``, ``embeddings``.

The suites need pytest, which the product never imports: only tests import this package.

Example::

    class TestMyRows(RowSourceContract):
        @pytest.fixture
        def source(self) -> RowSource:
            return MyRows()
"""

from artwork.testing.contracts.embedders import EmbedderContract
from artwork.testing.contracts.policies import PolicyContract
from artwork.testing.contracts.rankers import RankerContract
from artwork.testing.contracts.rows import RowSourceContract
from artwork.testing.contracts.scorers import FrameScorerContract
from artwork.testing.contracts.selectors import RowSelectorContract
from artwork.testing.contracts.shots import ShotDetectorContract
from artwork.testing.contracts.tags import TaggerContract

__all__ = [
    "EmbedderContract",
    "FrameScorerContract",
    "PolicyContract",
    "RankerContract",
    "RowSelectorContract",
    "RowSourceContract",
    "ShotDetectorContract",
    "TaggerContract",
]
