"""Float32 error of the networks on a CUDA GPU, with and without TF32, against float64 on the CPU.

cuDNN runs float32 convolutions in TF32 (a 10-bit mantissa) unless ``torch.backends.cudnn.allow_tf32``
is off; that is faster on tensor cores and less exact. For each network (the pretrained one and
randomised presets, on ``L × L`` fields with ``Q ~ N(0, 5²)``) this prints the force error
``max|F − F_ref| / max|F_ref|`` and the worst equivariance error of :func:`latsym.testing.assert_equivariant`
(scaled the same way) in float32 without and with TF32, next to the float32 tolerance of the tests.

    python benchmarks/precision_cuda.py --size 64 --json precision.json
"""

from __future__ import annotations

import argparse
import json

import torch
from latsym_holstein import pretrained
from latsym_holstein.networks import build_network

from latsym.group import point_group
from latsym.lattice import PeriodicLattice, square
from latsym.testing import TOLERANCES, assert_equivariant


def networks() -> dict[str, torch.nn.Module]:
    """The pretrained network and the other presets with random weights (their read-out starts at zero)."""
    nets = {"pretrained": pretrained(dtype=torch.float64)}
    for name in ("paper", "gnn"):
        torch.manual_seed(0)
        net = build_network(name)
        with torch.no_grad():
            for p in net.parameters():
                p.normal_(std=0.1)
        net = net.double()
        net.fit_input_scale(5.0 * torch.randn(4, 16, 16, dtype=torch.float64))
        nets[name] = net.eval()
    return nets


def errors(net: torch.nn.Module, name: str, q: torch.Tensor, reference: torch.Tensor) -> dict[str, float]:
    """Force and equivariance errors of ``net`` in float32 on the GPU, under the current TF32 setting."""
    net32 = net.to("cuda", torch.float32)
    with torch.no_grad():
        forces = net32(q.to("cuda", torch.float32)).double().cpu()
    # the GNN baseline declares no irreps: its forces are D4-invariant
    irreps = {}
    if name == "gnn":
        irreps = {"irreps_in": "A1", "irreps_out": "A1", "group": point_group("4mm", dim=2)}
    report = assert_equivariant(net32, lattice=PeriodicLattice(square(), 16), channel_dim=None,
                                dtype=torch.float32, device="cuda", atol=float("inf"), **irreps)
    return {"force": ((forces - reference).abs().max() / reference.abs().max()).item(),
            "equivariance": report.worst[1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="lattice side L of the force comparison")
    parser.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        parser.error("needs a CUDA GPU")
    q = 5.0 * torch.randn(4, args.size, args.size, generator=torch.Generator().manual_seed(0),
                          dtype=torch.float64)
    results = {}
    print(f"float32 tolerance of the equivariance tests: {TOLERANCES[torch.float32]:.0e}")
    print(f"{'network':>12} {'force err':>11} {'+TF32':>11} {'equiv err':>11} {'+TF32':>11}")
    for name, net in networks().items():
        with torch.no_grad():
            reference = net(q)
        row = {}
        for tf32 in (False, True):
            torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = tf32
            row["tf32" if tf32 else "float32"] = errors(net, name, q, reference)
        results[name] = row
        print(f"{name:>12} {row['float32']['force']:>11.2e} {row['tf32']['force']:>11.2e} "
              f"{row['float32']['equivariance']:>11.2e} {row['tf32']['equivariance']:>11.2e}")
    if args.json:
        meta = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name(), "size": args.size}
        with open(args.json, "w") as handle:
            document = {"benchmark": "cuda_float32_precision", "meta": meta, "results": results}
            json.dump(document, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
