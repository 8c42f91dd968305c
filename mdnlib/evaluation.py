"""Evaluate a trained model the way the paper does (notebook 06; SPEC §4).

For every test frame the M hypotheses (kernel means, mm, 17 joints with the root at 0) are
compared with the ground truth: the best one counts (Protocol 1 = MPJPE, Protocol 2 = P-MPJPE
after a similarity alignment), not weighted by the mixing coefficients. The reported figure is
the unweighted mean of the per-action means. Beside it: the error of the most likely kernel and
of the mixture mean (what a user gets without ground truth), the NLL of the test targets, and
kernel usage (average number of kernels with a weight above 5%).

`evaluate` returns a JSON-able dict; `format_results` prints it as the `test` command shows it.
"""
import numpy as np

from mdnlib import metrics

KERNEL_USED = 0.05  # a kernel "is used" for a frame when its mixing coefficient exceeds this


def hypothesis_errors(hypotheses, weights, gt, procrustes=False):
    """Per-frame errors (mm) of M hypotheses (N, M, J, 3) with weights (N, M) against gt (N, J, 3).

    Returns a dict of (N,) arrays: ``best_p1`` (min over hypotheses of MPJPE), ``most_likely_p1``
    (the hypothesis with the largest weight), ``mixture_mean_p1`` (the weight-averaged pose) and,
    with `procrustes`, ``best_p2`` (min over hypotheses of P-MPJPE).
    """
    hypotheses, weights, gt = _check_hypotheses(hypotheses, weights, gt)
    p1 = metrics.mpjpe(hypotheses, gt[:, None])                       # (N, M)
    frames = np.arange(len(gt))
    mean_pose = np.einsum("nm,nmjc->njc", weights / weights.sum(axis=1, keepdims=True), hypotheses)
    errors = {
        "best_p1": p1.min(axis=1),
        "most_likely_p1": p1[frames, weights.argmax(axis=1)],
        "mixture_mean_p1": metrics.mpjpe(mean_pose, gt),
    }
    if procrustes:
        errors["best_p2"] = metrics.p_mpjpe(hypotheses, gt[:, None]).min(axis=1)
    return errors


def kernel_usage(weights, threshold=KERNEL_USED):
    """Average number of kernels per frame whose mixing coefficient exceeds `threshold`."""
    return float(np.mean(np.sum(np.asarray(weights) > threshold, axis=-1)))


def action_table(errors, actions):
    """Per-action means of per-frame errors, and their unweighted mean over actions (SPEC §4).

    errors: (N,) mm; actions: (N,) action names. Returns {"per_action": {action: mm},
    "average": mean of the per-action means, "all_frames": mean over frames}.
    """
    errors, actions = np.asarray(errors, dtype=float), np.asarray(actions)
    if errors.shape != actions.shape:
        raise ValueError(f"one action per frame expected: errors {errors.shape}, actions {actions.shape}")
    per_action = {str(a): float(errors[actions == a].mean()) for a in sorted(set(actions.tolist()))}
    return {"per_action": per_action,
            "average": float(np.mean(list(per_action.values()))),
            "all_frames": float(errors.mean())}


def _check_hypotheses(hypotheses, weights, gt):
    hypotheses = np.asarray(hypotheses, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if hypotheses.ndim != 4 or hypotheses.shape[-1] != 3:
        raise ValueError(f"hypotheses must be (N, M, J, 3) mm, got {hypotheses.shape}")
    n, m, j, _ = hypotheses.shape
    if weights.shape != (n, m):
        raise ValueError(f"weights must be (N, M) = ({n}, {m}), got {weights.shape}")
    if gt.shape != (n, j, 3):
        raise ValueError(f"ground truth must be (N, J, 3) = ({n}, {j}, 3), got {gt.shape}")
    return hypotheses, weights, gt
