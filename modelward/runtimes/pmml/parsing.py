"""Safe parsing of PMML documents: any DTD is refused, so no entity trick gets through."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from xml.parsers import expat

from modelward.errors import InvalidModelError, UntrustedContentError

_SNIFF_BYTES = 1 << 20


class _DoctypeFound(Exception):
    pass


class _RootFound(Exception):
    pass


def _refuse_dtd(*_: Any) -> None:
    raise _DoctypeFound


def _refuse_external(*_: Any) -> int:
    raise _DoctypeFound


def parse_pmml(data: bytes, source: str) -> ET.Element:
    """Parse ``data``, refusing any DTD (and so every entity trick), and check it is PMML."""
    guard = expat.ParserCreate()
    guard.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    guard.StartDoctypeDeclHandler = _refuse_dtd
    guard.EntityDeclHandler = _refuse_dtd
    guard.UnparsedEntityDeclHandler = _refuse_dtd
    guard.ExternalEntityRefHandler = _refuse_external
    try:
        guard.Parse(data, True)
        root = ET.fromstring(data)  # no DTD: only the five predefined entities remain
    except _DoctypeFound:
        raise UntrustedContentError(
            f"{source} declares a DOCTYPE or ENTITY; modelward refuses XML with a DTD "
            "(it is how entity-expansion and external-entity attacks work, and PMML needs none)",
            hint="remove the <!DOCTYPE …> declaration from the file",
        ) from None
    except (expat.ExpatError, ET.ParseError) as exc:
        raise InvalidModelError(
            f"{source} is not well-formed XML ({exc})",
            hint="the file may be truncated or not a PMML document",
        ) from None
    if local(root.tag) != "PMML":
        raise InvalidModelError(
            f"{source} is XML but not PMML: its root element is <{local(root.tag)}>",
            hint="PMML documents start with <PMML version=…>",
        )
    return root


def root_name(path: Path) -> str | None:
    """The local name of the root element (or of the DOCTYPE) of an XML file, else None."""
    found: list[str] = []

    def stop(name: str, *_: Any) -> None:
        found.append(name.rsplit(":", 1)[-1])
        raise _RootFound

    parser = expat.ParserCreate()
    parser.StartElementHandler = stop
    parser.StartDoctypeDeclHandler = stop  # its name is the root's; nothing of the DTD is read
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(64 * 1024):
                parser.Parse(chunk, False)
                if fh.tell() > _SNIFF_BYTES:
                    return None
    except _RootFound:
        return found[0]
    except (expat.ExpatError, OSError):
        return None
    return None


def local(tag: Any) -> str:
    """An element's tag without its ``{namespace}``."""
    return str(tag).rsplit("}", 1)[-1]


def child(element: ET.Element, name: str) -> ET.Element | None:
    """The first child of ``element`` whose local name is ``name``, if any."""
    return next((el for el in element if local(el.tag) == name), None)
