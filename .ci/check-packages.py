"""Checks that dotnet pack made the packages the README promises: both libraries, both target frameworks, README,
LICENSE, XML documentation, and symbol packages with the PDBs. Exits 1 naming what is missing."""
import sys, zipfile, pathlib

folder = pathlib.Path(sys.argv[1])
missing = []
for package in ("Lstm.Simd", "Lstm.Core", "Lstm.Onnx"):
    nupkgs = sorted(folder.glob(f"{package}.*.nupkg"))
    snupkgs = sorted(folder.glob(f"{package}.*.snupkg"))
    if not nupkgs or not snupkgs:
        missing.append(f"{package}: no .nupkg or .snupkg in {folder}")
        continue
    names = set(zipfile.ZipFile(nupkgs[-1]).namelist())
    symbols = set(zipfile.ZipFile(snupkgs[-1]).namelist())
    nuspec = zipfile.ZipFile(nupkgs[-1]).read(f"{package}.nuspec").decode()
    want = ["README.md", "LICENSE"] + [f"lib/{tfm}/{package}.{ext}" for tfm in ("net8.0", "net10.0") for ext in ("dll", "xml")]
    missing += [f"{nupkgs[-1].name}: {w}" for w in want if w not in names]
    missing += [f"{snupkgs[-1].name}: lib/{tfm}/{package}.pdb" for tfm in ("net8.0", "net10.0") if f"lib/{tfm}/{package}.pdb" not in symbols]
    for tag in ("<license type=\"expression\">MIT</license>", "<readme>README.md</readme>", "<repository "):
        if tag not in nuspec:
            missing.append(f"{nupkgs[-1].name}: nuspec lacks {tag}")
    print(f"{nupkgs[-1].name}: {len(names)} entries; {snupkgs[-1].name}: {len(symbols)} entries")
if missing:
    print("package check failed:\n  " + "\n  ".join(missing))
    sys.exit(1)
print("package check: ok")
