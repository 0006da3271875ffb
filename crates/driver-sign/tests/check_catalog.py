#!/usr/bin/env python3
"""Independent check of a driver catalog (.cat) with the `signify` package.

Usage:
    check_catalog.py --cat rvmini.cat --cert cert.pem FILE [FILE ...]

Checks, with signify's own ASN.1 parsing, hashing and signature verification (none of this
project's code):

1. the catalog parses as a PKCS #7 SignedData around a certificate trust list whose subject
   usage is the catalog list;
2. its signature verifies, with the given certificate as the only trust anchor (the system and
   Microsoft roots are not used);
3. for every FILE, signify recomputes the file's hash in the catalog's member hashing scheme
   (Authenticode PE hash for PE images, flat hash otherwise) and that hash is a member of the
   catalog whose File attribute names the file; signify's catalog-based verification of the
   file then succeeds.

Prints one line per check and a JSON summary on the last line; exits 0 only if all passed,
1 if a check failed, 2 for usage or environment errors.

oscrypto workaround
-------------------
signify depends on oscrypto, and oscrypto 1.3.0 (the newest release on PyPI) fails at import on
OpenSSL 3.x releases with a two-digit patch number ("OpenSSL 3.0.19"): the regular expression it
uses to read the libcrypto version, r"\\b(\\d\\.\\d\\.\\d[a-z]*)\\b", accepts one digit per part, so
no version is found and it raises "Error detecting the version of libcrypto". oscrypto's source
repository fixed this by accepting several digits per part, but no release carries the fix. Rather
than edit files in site-packages, this script installs an import hook that applies exactly that
change to the two affected oscrypto modules (`_libcrypto_ctypes`, `_libcrypto_cffi`) as they are
loaded. It does nothing when the pattern is not there (a fixed oscrypto), and it changes nothing
else.
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import json
import sys

_OLD_PATTERN = "'\\\\b(\\\\d\\\\.\\\\d\\\\.\\\\d[a-z]*)\\\\b'"
_NEW_PATTERN = "'\\\\b(\\\\d+\\\\.\\\\d+\\\\.\\\\d+[a-z]*)\\\\b'"
_PATCHED_MODULES = {
    "oscrypto._openssl._libcrypto_ctypes",
    "oscrypto._openssl._libcrypto_cffi",
}
_patched: list[str] = []


class _OscryptoVersionFix(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):  # noqa: D401
        if fullname not in _PATCHED_MODULES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec
        spec.loader = _PatchingLoader(spec.loader.name, spec.loader.path)
        return spec


class _PatchingLoader(importlib.machinery.SourceFileLoader):
    def get_data(self, path):
        data = super().get_data(path)
        if path.endswith(".py"):
            text = data.decode("utf-8")
            if _OLD_PATTERN in text:
                text = text.replace(_OLD_PATTERN, _NEW_PATTERN)
                _patched.append(self.name)
                return text.encode("utf-8")
        return data

    def path_stats(self, path):
        # Force recompilation from the (patched) source instead of a cached .pyc.
        raise OSError("no bytecode cache for patched modules")


sys.meta_path.insert(0, _OscryptoVersionFix())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cat", required=True, help="catalog file")
    parser.add_argument("--cert", required=True, help="trust anchor certificate (PEM or DER)")
    parser.add_argument("files", nargs="+", help="files that must be catalog members")
    args = parser.parse_args()

    try:
        import hashlib

        from signify.authenticode.signed_file import AuthenticodeFile
        from signify.authenticode.trust_list import CertificateTrustList
        from signify.x509 import Certificate, CertificateStore
    except Exception as e:  # noqa: BLE001
        print(f"ENVIRONMENT: cannot import signify: {e!r}")
        return 2

    results: dict[str, object] = {"oscrypto_patched": _patched}
    ok = True

    with open(args.cert, "rb") as f:
        raw = f.read()
    certs = Certificate.from_pems(raw) if raw.startswith(b"-----BEGIN") else [Certificate.from_der(raw)]
    store = CertificateStore(certs, trusted=True)

    # 1. Parse.
    try:
        with open(args.cat, "rb") as f:
            ctl = CertificateTrustList.from_envelope(f.read())
        if not ctl.is_catalog:
            raise ValueError(f"subject usage {ctl.subject_usage} is not the catalog list")
        alg_name = ctl.subject_algorithm().name
        print(f"PASS parse: catalog with {len(list(ctl.subjects))} members, "
              f"subject algorithm {alg_name}")
    except Exception as e:  # noqa: BLE001
        print(f"FAIL parse: {e!r}")
        print(json.dumps({**results, "ok": False}))
        return 1

    # 2. Signature, with only our certificate trusted.
    try:
        chains = list(ctl.verify(trusted_certificate_store=store))
        chain_names = [[str(c.subject.dn) for c in chain] for chain in chains]
        results["signature_chains"] = chain_names
        print(f"PASS signature: verifies, chain {chain_names}")
    except Exception as e:  # noqa: BLE001
        ok = False
        results["signature_error"] = repr(e)
        print(f"FAIL signature: {e!r}")

    # 3. Members, hashed by signify.
    members = {}
    for path in args.files:
        name = path.replace("\\", "/").rsplit("/", 1)[-1]
        entry: dict[str, object] = {}
        try:
            with open(path, "rb") as f:
                af = AuthenticodeFile.from_stream(f, allow_flat=True)
                digest = af.get_fingerprint(ctl.subject_algorithm)
                entry["kind"] = type(af).__name__
                entry["recomputed"] = digest.hex().upper()
                subject = ctl.find_subject(digest)
                if subject is None:
                    raise LookupError(
                        f"{type(af).__name__} hash {digest.hex().upper()} is not a catalog member"
                    )
                file_attr = None
                for attr in subject.asn1["subject_attributes"]:
                    if attr["type"].native == "microsoft_cat_namevalue":
                        for nv in attr["values"]:
                            if nv["refname"].native == "File":
                                file_attr = nv["value"].native
                if file_attr is None or file_attr.lower() != name.lower():
                    raise LookupError(f"member's File attribute is {file_attr!r}, expected {name!r}")
                entry["file_attribute"] = file_attr
                # signify's own catalog-based verification of this file.
                af.add_catalog(ctl, check=True)
                af.verify(signature_types="catalog", trusted_certificate_store=store)
            print(f"PASS member {name}: {entry['kind']} {alg_name} "
                  f"{entry['recomputed']} is listed as File={file_attr} and verifies")
            entry["ok"] = True
        except Exception as e:  # noqa: BLE001
            ok = False
            entry["ok"] = False
            entry["error"] = repr(e)
            print(f"FAIL member {name}: {e!r}")
        members[name] = entry
    results["members"] = members
    results["ok"] = ok
    print(json.dumps(results))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
