"""Make the helper modules beside these tests (tcf_encoder, tcf_checks) importable
whatever pytest import mode the project uses."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
