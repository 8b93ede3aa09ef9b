"""Generate libs/proto (package hearth_proto) from protos/, or check that it is in step.

protoc names Python modules after proto paths (`hearth.eventlog.v1.record_pb2`); we generate
into a scratch directory and move the tree under `hearth_proto`, rewriting the imports, so
that the generated code never claims the top-level name `hearth`.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
TARGET = ROOT / "libs" / "proto" / "src" / "hearth_proto"
IMPORT = re.compile(r"^(from|import) hearth\.", re.MULTILINE)
BIN = Path(sys.executable).parent


def generate(out: Path) -> None:
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    scratch = out / "_scratch"
    scratch.mkdir(parents=True)
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{include}",
        f"--python_out={scratch}",
        f"--grpc_python_out={scratch}",
        f"--mypy_out={scratch}",
        f"--mypy_grpc_out={scratch}",
        f"--plugin=protoc-gen-mypy={BIN / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={BIN / 'protoc-gen-mypy_grpc'}",
        *sources,
    ]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    for path in sorted(scratch.rglob("*.py*")):
        text = IMPORT.sub(r"\1 hearth_proto.hearth.", path.read_text())
        dest = out / path.relative_to(scratch)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    shutil.rmtree(scratch)
    for directory in [out, *[d for d in out.rglob("*") if d.is_dir()]]:
        init = directory / "__init__.py"
        if not init.exists():
            init.write_text("")
    (out / "__init__.py").write_text('"""Generated protobuf and gRPC code for protos/."""\n')
    (out / "py.typed").write_text("")


def differences(left: Path, right: Path) -> list[str]:
    found: list[str] = []
    cmp = filecmp.dircmp(left, right, ignore=["__pycache__"])
    found += [f"only in protos output: {n}" for n in cmp.left_only]
    found += [f"stale generated file: {n}" for n in cmp.right_only]
    found += [f"differs: {n}" for n in cmp.diff_files]
    for name, sub in cmp.subdirs.items():
        found += [f"{name}/{d}" for d in differences(left / name, right / name)]
        del sub
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if libs/proto is stale")
    check = parser.parse_args().check
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "hearth_proto"
        generate(fresh)
        if check:
            stale = differences(fresh, TARGET) if TARGET.exists() else ["libs/proto missing"]
            if stale:
                sys.exit(
                    "generated code is out of step with protos/ (run `make protos`):\n  "
                    + "\n  ".join(stale)
                )
            return
        if TARGET.exists():
            shutil.rmtree(TARGET)
        shutil.copytree(fresh, TARGET)
    print(f"generated {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
