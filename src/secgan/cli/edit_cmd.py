"""``secgan edit``, ``secgan import stargan|attgan`` and ``secgan serve``: editing for people."""

from __future__ import annotations

import argparse
import logging
import re
import types
from pathlib import Path

from secgan.cli.common import OVERWRITE_HELP, avoid_inputs, print_json, refuse_to_replace, resolve_device
from secgan.utils.images import save_photo

log = logging.getLogger(__name__)

# "-Young" after --edit is an attribute edit, not an unknown option: argparse would otherwise refuse
# ``--edit -Young`` with "expected one argument". A single dash followed by a name (attribute names
# never contain '=' or spaces) that is not one of the parser's own options is passed through as a value.
_EDIT_VALUE = re.compile(r"^-[A-Za-z0-9][A-Za-z0-9_]*([=,].*)?$")


def _allow_dash_values(parser: argparse.ArgumentParser) -> None:
    original = parser._parse_optional

    def _parse_optional(self, arg_string):  # noqa: ANN001 - argparse internals
        name = re.split("[=,]", arg_string)[0]
        if _EDIT_VALUE.match(arg_string) and name not in self._option_string_actions:
            return None
        return original(arg_string)

    parser._parse_optional = types.MethodType(_parse_optional, parser)  # type: ignore[method-assign]


# ------------------------------------------------------------------------------------------------ edit
def face_report(face, attributes: list[str], edits: dict[str, float]) -> dict:
    """One face of the JSON summary: its box, the source attributes used, whether the edit changed it (and
    why not: e.g. "already Black_Hair (p = 0.87)") and, when the classifier predicted them, the probability
    of each attribute."""
    from secgan.editing.edits import redundant_edits

    entry: dict = {
        "box": None if face.box is None else [int(v) for v in face.box],
        "source": [a for a, v in zip(attributes, face.source) if v > 0.5],
        "changed": face.changed,
    }
    if not face.changed:
        reasons = redundant_edits(edits, attributes, face.source, face.probs)
        entry["unchanged_because"] = "; ".join(reasons) or (
            "the generator's output did not change for this edit (try a larger value or --strength)"
        )
    if face.probs is not None:
        entry["source_probabilities"] = dict(zip(attributes, face.probs))
    return entry


def _skip(skipped: list[dict], src, why: str) -> None:
    log.warning("%s: skipped: %s", src, why)
    skipped.append({"file": str(src), "reason": why})


def cmd_edit(args: argparse.Namespace) -> int:
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from secgan.cli.common import copy_file_atomic, resolve_model_dir
    from secgan.cli.edit_files import collect_inputs, plan_outputs
    from secgan.editing.editor import Editor, check_strength, effective_edits, parse_edits
    from secgan.editing.photo import NoFaceError, PhotoEditor
    from secgan.errors import EXIT_PARTIAL, ConfigError, DataError, SecganError
    from secgan.utils.images import read_photo

    if not args.edit:
        raise ConfigError("no edits given: use e.g. --edit +Bangs --edit -Young (or --edit +Bangs,-Young)")
    strength = check_strength(args.strength)
    out_dir = Path(args.out)
    pairs, own_outputs = collect_inputs(args.inputs, out_dir)
    extras = (("_diff",) if args.heatmap else ()) + (("_masks",) if args.masks else ())
    targets = plan_outputs(pairs, out_dir, args.overwrite, extras)
    model_dir = resolve_model_dir(args.model_dir)
    editor = Editor.load(
        model_dir,
        device=resolve_device(args.device),
        classifier_dir=args.classifier,
        parser_dir=args.parser,
        precision=args.precision,
    )
    edits = parse_edits(args.edit, editor.attributes)
    effective = effective_edits(edits, strength)
    if not any(effective.values()):
        log.warning("every edit is 0 (values or --strength): the photos are written unchanged")
    source = editor.labels_from_names(args.source)[0] if args.source is not None else None
    if source is None and not editor.has_classifier:
        raise SecganError(
            f"{model_dir} has no classifier to predict the source attributes: pass --source "
            "(the attributes the faces have, e.g. --source Brown_Hair,Young) or --classifier C_DIR"
        )
    if args.masks and not editor.has_parser:
        log.warning("%s has no parser: --masks is ignored (pass --parser P_DIR)", model_dir)
    photo_editor = PhotoEditor(editor, blend=args.blend, regions=args.regions)
    inputs = [src for src, _ in pairs]
    files: list[dict] = []
    skipped: list[dict] = []
    with logging_redirect_tqdm():  # log lines are printed above the progress bar, never inside it
        for (src, _), target in tqdm(
            list(zip(pairs, targets)), desc="edit", unit="img", disable=len(pairs) < 2
        ):
            try:
                photo, meta = read_photo(src)
            except DataError as err:
                if len(pairs) == 1:
                    raise
                _skip(skipped, src, str(err))  # one unreadable file among many is skipped, with its reason
                continue
            try:
                result = photo_editor.edit(
                    photo, edits, source=source, intensity=strength, aligned=args.aligned, masks=args.masks
                )
            except NoFaceError as err:
                if len(pairs) == 1:
                    raise NoFaceError(f"{src}: {err}") from err
                _skip(skipped, src, str(err))
                continue
            if result.image.shape == photo.shape and (result.image == photo).all():
                copy_file_atomic(src, target)  # nothing changed: the input's very bytes
            else:
                save_photo(result.image, target, meta)
            if args.heatmap:
                save_photo(result.heatmap, avoid_inputs(target.with_name(f"{target.stem}_diff.png"), inputs))
            if args.masks and result.masks is not None:
                save_photo(result.masks, avoid_inputs(target.with_name(f"{target.stem}_masks.png"), inputs))
            faces = [face_report(f, editor.attributes, effective) for f in result.faces]
            for k, face in enumerate(faces):
                if "unchanged_because" in face:
                    log.warning("%s, face %d: unchanged: %s", src, k + 1, face["unchanged_because"])
            files.append({"input": str(src), "output": str(target), "faces": faces})
    if not files:
        raise NoFaceError(f"no readable photo with a face among the {len(pairs)} input(s)")
    summary = {
        "out": str(out_dir),
        "photos_edited": len(files),
        "faces_edited": sum(len(f["faces"]) for f in files),
        "faces_unchanged": sum(1 for f in files for face in f["faces"] if not face["changed"]),
        "photos_skipped": len(skipped),
        "skipped": skipped,
        "own_outputs_not_read": len(own_outputs),
        "strength": strength,
        "edits": edits,
        "effective_edits": effective,
        "source": "given (--source)" if source is not None else "predicted by the classifier",
        "files": files,
    }
    print_json(summary)
    if skipped:
        log.warning("%d of %d input(s) skipped (listed under 'skipped'): exit status %d",
                    len(skipped), len(pairs), EXIT_PARTIAL)  # fmt: skip
        return EXIT_PARTIAL
    return 0


# ---------------------------------------------------------------------------------------------- import
def cmd_import(args: argparse.Namespace) -> int:
    from secgan.editing import importers

    refuse_to_replace(Path(args.out), args.overwrite)
    if args.import_kind == "stargan":
        out = importers.import_stargan(
            args.checkpoint, args.out, attributes=args.attrs, image_size=args.image_size
        )
    else:
        out = importers.import_attgan(
            args.checkpoint,
            args.out,
            attributes=args.attrs,
            image_size=args.image_size,
            thres_int=args.thres_int,
        )
    from secgan.models.export import read_config

    config = read_config(out)
    result = {
        "out": str(out),
        "backbone": config.get("backbone"),
        "attributes": config.get("attributes"),
        "conditioning": config.get("conditioning"),
        "image_size": config.get("image_size"),
        "generator": config["networks"]["G"],
    }
    print_json(result)
    return 0


# ----------------------------------------------------------------------------------------------- serve
def cmd_serve(args: argparse.Namespace) -> int:
    from secgan.app.web import serve
    from secgan.cli.common import resolve_model_dir

    serve(
        resolve_model_dir(args.model_dir),
        host=args.host,
        port=args.port,
        max_upload_mb=args.max_upload_mb,
        device=resolve_device(args.device),
        classifier_dir=args.classifier,
        parser_dir=args.parser,
        precision=args.precision,
        allow_hosts=args.allow_host,
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_edit(subparsers)
    _register_import(subparsers)
    _register_serve(subparsers)


def _register_edit(subparsers: argparse._SubParsersAction) -> None:
    from secgan.cli.common import add_device_argument, add_precision_argument
    from secgan.editing.blend import BLEND_HELP, BLEND_MODES
    from secgan.editing.editor import MAX_EDIT_VALUE, MAX_STRENGTH
    from secgan.errors import EXIT_CODES_HELP

    e = subparsers.add_parser(
        "edit",
        help="edit the faces in photos (or aligned crops) with an exported model",
        description="Edit every face in photos: detect, align to the model's crop, edit, blend back. "
        "Outputs keep the input's name, size, format, colour mode (grayscale, alpha, 16-bit grey), JPEG "
        "quality and EXIF (camera, date, copyright; the orientation is applied); an output that would "
        "overwrite an input is written as NAME.edited.EXT instead, and an earlier output is replaced only "
        "with --overwrite. Folders are read recursively, leaving out secgan edit's own outputs (NAME.edited.*, "
        "_diff/_masks images, what --out holds from them). A photo the edit leaves unchanged is written as "
        "a copy of the input's bytes, and the JSON says why each unchanged face did not change (e.g. "
        "'already Black_Hair (p = 0.87)') and why each skipped file was skipped.\n"
        "Example: secgan edit MODEL_DIR photo.jpg --edit +Bangs,-Young --out edited/\n" + EXIT_CODES_HELP,
    )
    _allow_dash_values(e)
    e.add_argument(
        "model_dir",
        help="exported model folder (config.json + G.safetensors): a secgan train run folder (its export/), "
        "a secgan reproduce folder (its model/), or a secgan import output",
    )
    e.add_argument("inputs", nargs="+", metavar="INPUT", help="image files and/or folders")
    e.add_argument(
        "--edit",
        action="append",
        default=[],
        metavar="EDIT",
        help=f"+Attr turns an attribute on, -Attr off, Attr=0.5 at half strength, values in "
        f"-{MAX_EDIT_VALUE:g}..+{MAX_EDIT_VALUE:g}; names in any case; several at once with commas "
        "(+Bangs,-Young) or by repeating --edit",
    )
    e.add_argument(
        "--strength",
        type=float,
        default=1.0,
        help=f"global strength multiplying every edit, 0..{MAX_STRENGTH:g} (1 = trained strength)",
    )
    e.add_argument(
        "--aligned",
        action="store_true",
        help="inputs are CelebA-style crops (no face detection): the centre square is edited at the "
        "model's size and put back into the image at its own size",
    )
    e.add_argument(
        "--source",
        default=None,
        help="comma-separated attributes the faces HAVE (the others are taken as absent); "
        "default: predicted by the model's classifier (listed with probabilities in the JSON)",
    )
    e.add_argument(
        "--classifier", default=None, metavar="C_DIR", help="classifier folder for the source labels"
    )
    e.add_argument("--parser", default=None, metavar="P_DIR", help="parser folder (masks, --regions)")
    e.add_argument("--heatmap", action="store_true", help="also write NAME_diff.png (|edited - input|)")
    e.add_argument("--masks", action="store_true", help="also write NAME_masks.png (the parser's segments)")
    e.add_argument("--regions", action="store_true", help="limit changes to the segments each edit touches")
    e.add_argument(
        "--blend",
        default=BLEND_MODES[0],
        choices=BLEND_MODES,
        help="how the edited crop goes back into the photo: "
        + "; ".join(f"{m}: {BLEND_HELP[m]}" for m in BLEND_MODES),
    )
    add_device_argument(e)
    add_precision_argument(e)
    e.add_argument("--out", required=True, help="output folder (edited images keep their names)")
    e.add_argument("--overwrite", action="store_true", help="replace outputs of an earlier run in --out")
    e.set_defaults(func=cmd_edit)


def _register_import(subparsers: argparse._SubParsersAction) -> None:
    imp = subparsers.add_parser(
        "import",
        help="import a public StarGAN / AttGAN generator checkpoint",
        description="Convert an official StarGAN or PyTorch AttGAN generator checkpoint into a secgan model "
        "folder that secgan edit / serve / info read.",
    )
    sub = imp.add_subparsers(dest="import_kind", metavar="KIND", required=True)
    s = sub.add_parser(
        "stargan",
        help="official StarGAN {iter}-G.ckpt (conditions on the target label)",
        description="Import the official StarGAN generator {iter}-G.ckpt (conditions on the 0/1 target "
        "label; weights loaded with weights_only=True).",
    )
    s.add_argument("checkpoint", help="the generator checkpoint, e.g. 200000-G.ckpt")
    s.add_argument(
        "--attrs",
        default="Black_Hair,Blond_Hair,Brown_Hair,Male,Young",
        help="comma-separated attributes in the training order (the public CelebA model's 5)",
    )
    s.add_argument("--image-size", type=int, default=128, help="the crop size the model was trained on")
    s.add_argument("--out", required=True, help="model folder to write")
    s.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    s.set_defaults(func=cmd_import)
    a = sub.add_parser(
        "attgan",
        help="PyTorch AttGAN weights.N.pth (conditions on the +-0.5 target)",
        description="Import a PyTorch AttGAN checkpoint weights.N.pth (conditions on the target label "
        "mapped to +-thres_int; weights loaded with weights_only=True).",
    )
    a.add_argument("checkpoint", help="the checkpoint, e.g. weights.199.pth")
    a.add_argument("--attrs", default=None, help="comma-separated attributes (None: the paper's 13)")
    a.add_argument("--image-size", type=int, default=128, help="the crop size the model was trained on")
    a.add_argument("--thres-int", type=float, default=0.5, help="AttGAN's thres_int (training label scale)")
    a.add_argument("--out", required=True, help="model folder to write")
    a.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    a.set_defaults(func=cmd_import)


def _register_serve(subparsers: argparse._SubParsersAction) -> None:
    from secgan.cli.common import add_device_argument, add_precision_argument

    v = subparsers.add_parser(
        "serve",
        help="web demo (Gradio) on 127.0.0.1",
        description="Serve a web page to edit the faces of uploaded photos with an exported model. Bound to "
        "127.0.0.1 unless --host says otherwise; requests naming another host are refused (DNS rebinding); "
        "nothing is fetched from the internet.",
    )
    v.add_argument("model_dir", help="exported model folder, or a run folder with export/")
    v.add_argument(
        "--host",
        default="127.0.0.1",
        help="bind address (loopback only by default); only this name, localhost and 127.0.0.1 are "
        "accepted in requests' Host header",
    )
    v.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another host name requests may use, e.g. the machine's name when --host is 0.0.0.0 "
        "(repeatable; without it, a wildcard --host accepts any Host header, with a warning)",
    )
    v.add_argument("--port", type=int, default=7860, help="TCP port")
    v.add_argument("--max-upload-mb", type=float, default=10.0, help="largest accepted upload")
    v.add_argument(
        "--classifier", default=None, metavar="C_DIR", help="classifier folder for the source labels"
    )
    v.add_argument("--parser", default=None, metavar="P_DIR", help="parser folder (segments, regions)")
    add_device_argument(v)
    add_precision_argument(v)
    v.set_defaults(func=cmd_serve)
