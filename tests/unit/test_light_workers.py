"""A web worker starts without the image-reading libraries (about 60 MB): OpenCV, numpy,
zxing-cpp, zbar and PDFium load with the first photo or file it decodes."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("cv2", "numpy", "zxingcpp", "pyzbar", "pypdfium2")


def test_the_app_starts_without_loading_opencv_or_pdfium(tmp_path):
    program = (
        "import sys\n"
        "from app import create_app\n"
        "from blueprints.cli import upgrade_database\n"
        f"url = 'sqlite:///{tmp_path / 'app.db'}'\n"
        "upgrade_database(url)\n"
        "create_app({'DATABASE_URL': url})\n"
        f"print(','.join(name for name in {HEAVY!r} if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == ""
