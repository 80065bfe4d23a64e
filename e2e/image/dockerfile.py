#!/usr/bin/env python3
"""Reads the Dockerfile and .dockerignore for e2e/image/check.sh, which has no Docker engine
to build with: the stages, the one `RUN cargo build` line, what the run stage copies and runs,
and what the build context would hold.

  dockerfile.py static            check the Dockerfile and .dockerignore, print shell facts
  dockerfile.py stage DIR         lay out DIR as the build stage's WORKDIR after its COPYs
  dockerfile.py context DEPFILE   every repository file cargo read is in the build context

Each failed check prints `image-check: FAIL: ...` to stderr; the exit status is then 1.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
# What distroless (and most base images) put on PATH, so an ENTRYPOINT without a slash finds
# a binary copied into one of these.
IMAGE_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
DEBIAN_CODENAMES = {"bullseye": "11", "bookworm": "12", "trixie": "13"}
DEBIAN_GLIBC = {"11": "2.31", "12": "2.36", "13": "2.41"}
REQUIRED_LABELS = ["title", "description", "source", "version", "licenses"]

failures = []


def fail(message):
    failures.append(message)
    print(f"image-check: FAIL: {message}", file=sys.stderr)


def finish():
    if failures:
        print(f"image-check: {len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)


# ---- Dockerfile -----------------------------------------------------------------------------


class Instruction:
    def __init__(self, first, last, text):
        self.first, self.last = first, last
        keyword, _, rest = text.partition(" ")
        self.keyword, self.args = keyword.upper(), rest.strip()

    def where(self):
        return f"Dockerfile:{self.first}"


def instructions(text):
    """Logical instructions: comments dropped, backslash continuations joined."""
    out, buf, first = [], "", None
    for n, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if first is None:
            first = n
        line = raw.rstrip()
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        out.append(Instruction(first, n, buf + line.strip()))
        buf, first = "", None
    if buf:
        out.append(Instruction(first, first, buf))
    return out


def substitute(value, args):
    def repl(m):
        name, default = m.group(1) or m.group(3), m.group(2)
        if args.get(name) is not None:
            return args[name]
        return default if default is not None else m.group(0)

    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", repl, value)


def arg_default(instr):
    name, eq, value = instr.args.partition("=")
    return name.strip(), (value.strip().strip('"') if eq else None)


class Stage:
    def __init__(self, instr, global_args, names):
        words = [w for w in instr.args.split() if not w.startswith("--")]
        self.instr, self.raw_image = instr, words[0]
        self.name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
        self.image = substitute(self.raw_image, global_args)
        self.from_stage = self.image in names
        self.body = []

    def all(self, keyword):
        return [i for i in self.body if i.keyword == keyword]

    def workdir_before(self, instr):
        workdir = "/"
        for i in self.body:
            if i is instr:
                break
            if i.keyword == "WORKDIR":
                workdir = os.path.join(workdir, i.args)
        return workdir


def stages(path):
    with open(path) as f:
        parsed = instructions(f.read())
    global_args, out, names = {}, [], set()
    for instr in parsed:
        if instr.keyword == "FROM":
            out.append(Stage(instr, global_args, names))
            if out[-1].name:
                names.add(out[-1].name)
        elif not out:
            if instr.keyword == "ARG":
                name, value = arg_default(instr)
                global_args[name] = value
        else:
            out[-1].body.append(instr)
    return global_args, out


def copy_parts(instr):
    """(flags, sources, destination) of a COPY."""
    if instr.args.lstrip().startswith("["):
        words, flags = json.loads(instr.args), {}
    else:
        words, flags = [], {}
        for w in instr.args.split():
            if w.startswith("--") and not words:
                key, _, value = w[2:].partition("=")
                flags[key] = value
            else:
                words.append(w)
    return flags, words[:-1], words[-1] if words else ""


def exec_form(instr):
    try:
        value = json.loads(instr.args)
    except json.JSONDecodeError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def image_tag(image):
    """The tag of an image reference, '' when it has none; digests count as pinned."""
    if "@sha256:" in image:
        return "@digest"
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


# ---- .dockerignore --------------------------------------------------------------------------


def ignore_rules(path):
    rules = []
    if not os.path.exists(path):
        return rules
    with open(path) as f:
        for line in f:
            p = line.strip()
            if not p or p.startswith("#"):
                continue
            negate = p.startswith("!")
            p = os.path.normpath(p.lstrip("!").strip()).lstrip("/")
            rx, i = "", 0
            while i < len(p):
                if p.startswith("**/", i):
                    rx, i = rx + "(?:.*/)?", i + 3
                elif p.startswith("**", i):
                    rx, i = rx + ".*", i + 2
                elif p[i] == "*":
                    rx, i = rx + "[^/]*", i + 1
                elif p[i] == "?":
                    rx, i = rx + "[^/]", i + 1
                else:
                    rx, i = rx + re.escape(p[i]), i + 1
            rules.append((negate, re.compile(rx)))
    return rules


def ignored(relpath, rules):
    """Docker's rule: a path is out when it, or a directory above it, matches; last match wins."""
    parts = relpath.split("/")
    candidates = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    out = False
    for negate, rx in rules:
        if any(rx.fullmatch(c) for c in candidates):
            out = not negate
    return out


# ---- checks ---------------------------------------------------------------------------------


def cargo_metadata():
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)


def rustc_version():
    out = subprocess.run(["rustc", "--version"], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout
    return out.split()[1]


def build_stage(all_stages):
    """The stage holding the one `RUN cargo build` line, and that instruction."""
    found = [(s, i) for s in all_stages for i in s.all("RUN") if i.args.startswith("cargo build")]
    if len(found) != 1:
        fail(f"expected exactly one 'RUN cargo build ...' instruction, found {len(found)}")
        finish()
    return found[0]


def check_static(dockerfile, dockerignore):
    global_args, all_stages = stages(dockerfile)
    if len(all_stages) < 2:
        fail(f"expected a multi-stage Dockerfile, found {len(all_stages)} stage(s)")
        finish()
    meta = cargo_metadata()
    package = next(p for p in meta["packages"] if p["name"] == "reloader")
    build, run = build_stage(all_stages)
    final = all_stages[-1]

    # Base images: pinned by a tag that is not latest (or by digest), every ARG resolved.
    for s in all_stages:
        if s.from_stage:
            continue
        tag = image_tag(s.image)
        if "$" in s.image:
            fail(f"{s.instr.where()}: FROM {s.raw_image} has an unresolved variable ({s.image})")
        elif not tag:
            fail(f"{s.instr.where()}: base image {s.image} is not pinned by a tag")
        elif tag == "latest":
            fail(f"{s.instr.where()}: base image {s.image} uses the moving 'latest' tag")

    # The build stage: the Rust image at the toolchain this check builds with.
    local_rustc = rustc_version()
    repo, _, tag = build.image.rpartition(":")
    if repo.rsplit("/", 1)[-1] != "rust":
        fail(f"{build.instr.where()}: build stage image {build.image} is not the rust image")
    elif not (tag == local_rustc or tag.startswith(local_rustc + "-")):
        fail(f"{build.instr.where()}: build stage image {build.image} is not rustc {local_rustc}, "
             "the toolchain this check (and CI) builds with: bump ARG RUST_VERSION")

    # glibc: the build stage's Debian release is the run stage's.
    codename = next((c for c in DEBIAN_CODENAMES if c in tag), None)
    release = re.search(r"debian(\d+)", final.image)
    if not codename or not release:
        fail(f"cannot tell the Debian releases of {build.image} and {final.image}")
    elif DEBIAN_CODENAMES[codename] != release.group(1):
        fail(f"{build.image} is Debian {DEBIAN_CODENAMES[codename]} but {final.image} is Debian "
             f"{release.group(1)}: build and run on one release, so on one glibc")

    # The cargo line: one physical line, plain words (check.sh runs it verbatim, no shell).
    if run.first != run.last:
        fail(f"{run.where()}: the RUN cargo build instruction must be one line")
    if not re.fullmatch(r"[A-Za-z0-9_./=:, -]+", run.args):
        fail(f"{run.where()}: the cargo line has shell syntax check.sh would not reproduce")
    words = run.args.split()
    for flag in ("--locked", "--release"):
        if flag not in words:
            fail(f"{run.where()}: the cargo line lacks {flag}")
    workdir = build.workdir_before(run)
    if workdir == "/":
        fail(f"{build.instr.where()}: the build stage has no WORKDIR before its cargo line")

    # The build stage's COPYs: they exist, the context keeps them, they hold every member.
    rules = ignore_rules(dockerignore)
    copied = []
    for c in build.all("COPY") + build.all("ADD"):
        flags, sources, _ = copy_parts(c)
        if c.keyword == "ADD":
            fail(f"{c.where()}: use COPY, not ADD")
        if "from" in flags:
            continue
        for src in sources:
            rel = os.path.normpath(src)
            if not os.path.exists(os.path.join(ROOT, rel)):
                fail(f"{c.where()}: COPY source {src} does not exist")
            elif ignored(rel, rules):
                fail(f"{c.where()}: COPY source {src} is excluded by .dockerignore")
            copied.append(rel)
    for member in meta["workspace_members"]:
        pkg = next(p for p in meta["packages"] if p["id"] == member)
        rel = os.path.relpath(os.path.dirname(pkg["manifest_path"]), ROOT)
        manifest = os.path.normpath(os.path.join(rel, "Cargo.toml"))
        if not any(manifest == c or manifest.startswith(c + "/") for c in copied):
            fail(f"workspace member {pkg['name']} ({manifest}) is not copied into the build stage")
    if "Cargo.lock" not in copied:
        fail("Cargo.lock is not copied into the build stage (--locked needs it)")

    # .dockerignore: what must never reach the context.
    for path in ["target/release/reloader", ".tools/bin/kubectl", ".git/HEAD",
                 "node_modules/x/package.json", "helm/node_modules/x/package.json",
                 "certs/tls.key", "certs/ca.key"]:
        if not ignored(path, rules):
            fail(f".dockerignore lets {path} into the build context")

    # The run stage: nothing but the binary, a numeric non-root user, reloader serve.
    for r in final.all("RUN"):
        fail(f"{r.where()}: the run stage is distroless (no shell): RUN cannot work there")
    binaries = [c for c in final.all("COPY") if copy_parts(c)[0].get("from") == build.name]
    if len(binaries) != 1 or len(copy_parts(binaries[0])[1]) != 1:
        fail(f"expected one single-source COPY --from={build.name} in the run stage")
        finish()
    _, (copy_src,), copy_dst = copy_parts(binaries[0])
    if not copy_src.startswith(workdir.rstrip("/") + "/"):
        fail(f"{binaries[0].where()}: COPY source {copy_src} is not under WORKDIR {workdir}")

    entrypoints, cmds, users = final.all("ENTRYPOINT"), final.all("CMD"), final.all("USER")
    entrypoint = exec_form(entrypoints[-1]) if entrypoints else None
    cmd = exec_form(cmds[-1]) if cmds else None
    if entrypoint != ["reloader"]:
        fail(f"run stage ENTRYPOINT is {entrypoints[-1].args if entrypoints else 'missing'}, "
             'expected ["reloader"]')
    if cmd != ["serve"]:
        fail(f"run stage CMD is {cmds[-1].args if cmds else 'missing'}, expected [\"serve\"]")
    if entrypoint and os.path.basename(copy_dst) != entrypoint[0]:
        fail(f"the binary is copied to {copy_dst}, which ENTRYPOINT {json.dumps(entrypoint)} "
             "does not name")
    if os.path.dirname(copy_dst) not in IMAGE_PATH:
        fail(f"the binary is copied to {copy_dst}, not into a directory on the image's PATH")
    user = users[-1].args if users else ""
    m = re.fullmatch(r"(\d+)(?::(\d+))?", user)
    if not m:
        fail(f"run stage USER is {user or 'missing'}, expected a numeric uid[:gid]")
    elif int(m.group(1)) == 0 or (m.group(2) and int(m.group(2)) == 0):
        fail(f"run stage USER {user} is root")

    # OCI labels; the license is the crate's.
    labels = {}
    for label in final.all("LABEL"):
        for word in shlex.split(label.args):
            key, _, value = word.partition("=")
            labels[key] = value
    for key in REQUIRED_LABELS:
        if not labels.get(f"org.opencontainers.image.{key}"):
            fail(f"run stage lacks the label org.opencontainers.image.{key}")
    if labels.get("org.opencontainers.image.licenses", package["license"]) != package["license"]:
        fail(f"label licenses is {labels['org.opencontainers.image.licenses']}, the crate's is "
             f"{package['license']}")
    version_args = [arg_default(a) for a in final.all("ARG")]
    if labels.get("org.opencontainers.image.version") != "${VERSION}" or not any(
        name == "VERSION" and value for name, value in version_args
    ):
        fail("label version must be ${VERSION}, from an ARG VERSION with a default")

    finish()
    facts = {
        "BUILD_CMD": run.args,
        "BUILD_WORKDIR": workdir,
        "COPY_SRC": copy_src,
        "RUN_CMD": " ".join(cmd),
        "CRATE_VERSION": package["version"],
        "RUSTC_VERSION": local_rustc,
        "RUN_GLIBC": DEBIAN_GLIBC.get(release.group(1), "") if release else "",
    }
    for key, value in facts.items():
        print(f"{key}={shlex.quote(value)}")


def copy_tree(src, dst, rel, rules):
    if os.path.isdir(src):
        for entry in sorted(os.listdir(src)):
            copy_tree(os.path.join(src, entry), os.path.join(dst, entry), f"{rel}/{entry}", rules)
    elif not ignored(rel, rules):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)


def stage(dockerfile, dockerignore, out):
    """The build stage's WORKDIR as its COPYs leave it, with Docker's COPY rules."""
    _, all_stages = stages(dockerfile)
    build, run = build_stage(all_stages)
    workdir, rules = build.workdir_before(run), ignore_rules(dockerignore)
    for c in build.all("COPY"):
        if c.first > run.first:
            break
        flags, sources, dst = copy_parts(c)
        if "from" in flags:
            continue
        dst = os.path.normpath(os.path.join(workdir, dst)) + ("/" if dst.endswith("/") else "")
        if not (dst.rstrip("/") + "/").startswith(workdir.rstrip("/") + "/"):
            fail(f"{c.where()}: COPY destination {dst} is outside WORKDIR {workdir}")
            continue
        target = os.path.join(out, os.path.relpath(dst, workdir))
        for src in sources:
            rel = os.path.normpath(src)
            path = os.path.join(ROOT, rel)
            if os.path.isfile(path) and (dst.endswith("/") or len(sources) > 1):
                copy_tree(path, os.path.join(target, os.path.basename(rel)), rel, rules)
            else:
                copy_tree(path, target, rel, rules)
    finish()


def context(depfile, staged):
    """Every file inside the repository that the build read (cargo's dep-info for the binary,
    which lists the sources of every workspace crate it links) is in the staged context."""
    with open(depfile) as f:
        text = f.read().replace("\\\n", " ")
    _, _, deps = text.partition(": ")
    paths = re.split(r"(?<!\\) ", deps.strip())
    inside = 0
    for path in (p.replace("\\ ", " ") for p in paths if p):
        rel = os.path.relpath(os.path.realpath(path), ROOT)
        if rel.startswith("..") or rel.startswith("target/"):
            continue
        inside += 1
        if not os.path.exists(os.path.join(staged, rel)):
            fail(f"the build reads {rel}, which the Dockerfile does not copy into the build stage "
                 "(or .dockerignore leaves out)")
    if inside == 0:
        fail(f"{depfile} names no file of the repository: cannot check the build context")
    finish()
    print(f"image-check: all {inside} repository files the build read are in the build context")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dockerfile", default=os.path.join(ROOT, "Dockerfile"))
    parser.add_argument("--dockerignore", default=os.path.join(ROOT, ".dockerignore"))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("static")
    p = sub.add_parser("stage")
    p.add_argument("dir")
    p = sub.add_parser("context")
    p.add_argument("depfile")
    p.add_argument("staged")
    args = parser.parse_args()
    if args.command == "static":
        check_static(args.dockerfile, args.dockerignore)
    elif args.command == "stage":
        stage(args.dockerfile, args.dockerignore, args.dir)
    else:
        context(args.depfile, args.staged)


if __name__ == "__main__":
    main()
