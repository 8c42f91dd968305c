"""Evaluate a trained model the way the paper does (notebook 06).

For every test frame the M hypotheses (kernel means, mm, 17 joints with the root at 0) are
compared with the ground truth: the best one counts (Protocol 1 = MPJPE, Protocol 2 = P-MPJPE
after a similarity alignment), not weighted by the mixing coefficients. The reported figure is
the unweighted mean of the per-action means. Beside it: the error of the most likely kernel and
of the mixture mean (what a user gets without ground truth), the NLL of the test targets,
kernel usage (average number of kernels with a weight above 5%) and calibration.

A flow (notebook 08) is evaluated on its samples instead (`evaluate_samples`), on a random
subset of the test frames (`FLOW_FRAMES`): best of M for several M (`FLOW_BEST_OF`), one
sample, the mean of the samples and their calibration (`metrics.sample_coverage`).

`evaluate` returns a JSON-able dict; `format_results` prints it as the `test` command shows it;
`validation_metrics` is the part of it that training reports after every epoch;
`save_sample_figures` draws test frames as the original `--sample` did.
"""
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from mdnlib import dataset, inference, losses, metrics, models, viz
from mdnlib.sources import load_source

KERNEL_USED = 0.05  # a kernel "is used" for a frame when its mixing coefficient exceeds this
CHUNK = 65_536      # test frames evaluated at a time
FLOW_FRAMES = 4000                   # random test frames a flow is evaluated on (sampling is slow)
FLOW_BEST_OF = (1, 5, 20, 50, 200)   # numbers of samples whose best a flow's evaluation reports
FLOW_VALIDATION_SAMPLES = 5          # samples per validation pose after every training epoch


def load_test_split(model, data=None, data_dir=None, use_sh=None, source_2d=None, run=None, cameras=None):
    """The test split of a source, normalised with the model's own statistics (a PreparedData).

    data, data_dir, use_sh, cameras: as `mdnlib.sources.load_source` takes them; source_2d: the 2D
    file of the h36m_npz source. run: the model's training settings (`inference.training_run`):
    when `data` is None or the training source, what is not given is taken from there, so a model
    is tested on the data it was trained on (synthetic if nothing is known).
    """
    run = run or {}
    if data is None or data == run.get("data"):
        data = run.get("data", "synthetic")
        data_dir = run.get("data_dir") if data_dir is None else data_dir
        use_sh = run.get("use_sh", False) if use_sh is None else use_sh
        source_2d = source_2d or run.get("source_2d")
        cameras = cameras or run.get("cameras")
    options = {}
    if source_2d:
        if data != "h36m_npz":
            raise ValueError(f"source_2d chooses a VideoPose3D 2D file: it applies to the h36m_npz "
                             f"source only, not {data}")
        options["source_2d"] = source_2d
    if cameras is not None:
        options["cameras"] = cameras
    poses = load_source(data, data_dir, use_sh=bool(use_sh), **options)
    return dataset.prepare(poses, normalizer=inference.model_normalizer(model))


def evaluate(model, prepared, procrustes=False, miss_num=0, seed=0, batch_size=4096, frames=FLOW_FRAMES):
    """Evaluate a model on the test split of a PreparedData normalised with the model's statistics.

    miss_num: how many of the 8 limb joints are hidden in every test input, drawn with `seed`.
    Returns the dict of `evaluate_outputs`, plus the data source and miss_num. A flow is evaluated
    on `frames` test frames drawn with `seed` (all of them if None), with `max(FLOW_BEST_OF)`
    samples each (`evaluate_samples`).
    """
    normalizer = inference.model_normalizer(model)
    if not prepared.normalizer.same_as(normalizer):
        raise ValueError(f"the {prepared.source} data were normalised with other statistics than the "
                         "model's: prepare them with normalizer=inference.model_normalizer(model)")
    if frames is not None and frames < 1:
        raise ValueError(f"frames: how many test frames a flow samples, at least 1 (None: all), got {frames}")
    x = dataset.mask_missing_joints(prepared.test_2d, miss_num, np.random.default_rng(seed))
    results = {"data": prepared.source, "miss_num": int(miss_num)}
    actions = prepared.test_info["action"]
    if model.model_config.kind == "flow":
        rows = np.arange(len(x))
        if frames is not None and frames < len(x):
            rows = np.sort(np.random.default_rng(seed).choice(len(x), frames, replace=False))
        samples = inference.predict_normalized(model, x[rows], batch_size=batch_size,
                                               num_hypotheses=max(FLOW_BEST_OF), seed=seed)
        results.update(evaluate_samples(samples.hypotheses, prepared.test_3d_mm[rows], actions[rows], procrustes))
        return results
    mu, sigma, alpha = models.predict_mixture(model, x, batch_size=batch_size)
    results.update(evaluate_outputs(mu, sigma, alpha, prepared.test_3d, prepared.test_3d_mm,
                                    actions, normalizer, procrustes))
    return results


def evaluate_samples(samples, gt_mm, actions, procrustes=False, best_of=FLOW_BEST_OF,
                     hypotheses=inference.FLOW_HYPOTHESES):
    """The figures of a sampler's evaluation: samples (N, S, 17, 3) and gt_mm (N, 17, 3) mm,
    actions (N,) or None; S at least max(best_of).

    Returns a JSON-able dict like `evaluate_outputs`'s, with `hypotheses` samples standing for
    the M hypotheses: ``p1`` (and ``p2``) best of them, ``most_likely_p1`` one sample,
    ``mixture_mean_p1`` their mean pose, ``calibration_ece`` of their spread
    (`metrics.sample_coverage`), ``best_of`` {M: best of the first M samples, averaged over
    actions} for every M of `best_of`, and no NLL or kernel usage (None).
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.shape[1] < max(best_of, default=0) or samples.shape[1] < hypotheses:
        raise ValueError(f"{max((*best_of, hypotheses))} samples per frame needed, got {samples.shape[1]}")
    actions = np.full(len(gt_mm), "all") if actions is None else actions
    first = samples[:, :hypotheses]
    errors = hypothesis_errors(first, np.ones(first.shape[:2]), gt_mm, procrustes)
    p1 = metrics.mpjpe(samples, np.asarray(gt_mm, dtype=np.float64)[:, None])
    results = {"frames": int(len(gt_mm)), "num_kernels": int(hypotheses), "kind": "flow",
               "p1": action_table(errors["best_p1"], actions)}
    if procrustes:
        results["p2"] = action_table(errors["best_p2"], actions)
    results["most_likely_p1"] = action_table(errors["most_likely_p1"], actions)
    results["mixture_mean_p1"] = action_table(errors["mixture_mean_p1"], actions)
    results["best_of"] = {str(m): action_table(metrics.best_of_m(p1[:, :m]), actions)["average"] for m in best_of}
    results["kernel_usage"] = None
    results["nll"] = None
    results["calibration_ece"] = metrics.expected_calibration_error(metrics.sample_coverage(first, gt_mm))
    return results


def validation_metrics(model, x, y, normalizer, batch_size=4096):
    """What training reports after every epoch, on normalised x (N, 32) and y (N, 48):
    ``val_mpjpe``, the best-of-M MPJPE over frames (mm, 17 joints, root included), and
    ``val_nll``, the mixture NLL in normalised units (NaN for a baseline without its sigma).
    A flow reports the best of `FLOW_VALIDATION_SAMPLES` samples, and no NLL (training gives it
    `train.FLOW_VALIDATION_EXAMPLES` of the validation poses)."""
    if model.model_config.kind == "flow":
        result = inference.predict_normalized(model, x, batch_size=batch_size,
                                              num_hypotheses=FLOW_VALIDATION_SAMPLES, seed=0)
        p1 = metrics.mpjpe(result.hypotheses, normalizer.denormalize_3d(y)[:, None])
        return {"val_mpjpe": float(np.mean(metrics.best_of_m(p1))), "val_nll": float("nan")}
    mu, sigma, alpha = models.predict_mixture(model, x, batch_size=batch_size)
    results = evaluate_outputs(mu, sigma, alpha, y, normalizer.denormalize_3d(y), None, normalizer)
    return {"val_mpjpe": results["p1"]["all_frames"],
            "val_nll": float("nan") if results["nll"] is None else results["nll"]}


def evaluate_outputs(mu, sigma, alpha, target, gt_mm, actions, normalizer, procrustes=False, chunk=CHUNK):
    """All the figures of one evaluation, from the network's outputs on N test frames.

    mu (N, M, 48), sigma (N, M), alpha (N, M): network outputs in normalised units; target
    (N, 48) normalised and gt_mm (N, 17, 3) root-relative mm: the ground truth; actions (N,),
    or None for one group.
    Returns a JSON-able dict: ``p1`` (and ``p2``) best-of-M tables, ``most_likely_p1`` and
    ``mixture_mean_p1`` tables (see `action_table`), ``nll`` (mean negative log-likelihood of
    the normalised targets, D = 48), ``kernel_usage``, ``calibration_ece`` (of the most likely
    kernel, as `metrics.calibration`; both None when sigma is unknown), ``num_kernels``, ``frames``.
    Computed `chunk` frames at a time, so that memory stays bounded on the 550k test frames
    of Human3.6M.
    """
    actions = np.full(len(target), "all") if actions is None else actions
    has_sigma = bool(np.isfinite(sigma).all())   # a baseline whose training never set its sigma has none
    errors, log_likelihoods, radii = {}, [], []
    for start in range(0, len(target), chunk):
        part = slice(start, start + chunk)
        result = inference.hypotheses_from_mixture(mu[part], sigma[part], alpha[part], normalizer)
        for name, values in hypothesis_errors(result.hypotheses, result.weights, gt_mm[part], procrustes).items():
            errors.setdefault(name, []).append(values)
        if has_sigma:
            m, s, a, y = (np.asarray(v[part], dtype=np.float64) for v in (mu, sigma, alpha, target))
            log_likelihoods.append(np.asarray(losses.mixture_log_likelihood(y, m, s, a)))
            radii.append(metrics.joint_radii(y, m, s, metrics.choose_kernel(m, a, rule="likely")))
    errors = {name: np.concatenate(values) for name, values in errors.items()}
    results = {"frames": int(len(target)), "num_kernels": int(np.shape(alpha)[1]),
               "p1": action_table(errors["best_p1"], actions)}
    if procrustes:
        results["p2"] = action_table(errors["best_p2"], actions)
    results["most_likely_p1"] = action_table(errors["most_likely_p1"], actions)
    results["mixture_mean_p1"] = action_table(errors["mixture_mean_p1"], actions)
    results["kernel_usage"] = metrics.kernel_usage(alpha, KERNEL_USED)
    results["nll"] = float(-np.concatenate(log_likelihoods).mean()) if has_sigma else None
    results["calibration_ece"] = (metrics.expected_calibration_error(metrics.coverage(np.concatenate(radii)))
                                  if has_sigma else None)
    return results


def hypothesis_errors(hypotheses, weights, gt, procrustes=False):
    """Per-frame errors (mm) of M hypotheses (N, M, J, 3) with weights (N, M) against gt (N, J, 3).

    Returns a dict of (N,) arrays: ``best_p1`` (min over hypotheses of MPJPE), ``most_likely_p1``
    (the hypothesis with the largest weight), ``mixture_mean_p1`` (the weight-averaged pose) and,
    with `procrustes`, ``best_p2`` (min over hypotheses of P-MPJPE).
    """
    hypotheses, weights, gt = _check_hypotheses(hypotheses, weights, gt)
    p1 = metrics.mpjpe(hypotheses, gt[:, None])                       # (N, M)
    mean_pose = np.einsum("nm,nmjc->njc", weights / weights.sum(axis=1, keepdims=True), hypotheses)
    errors = {
        "best_p1": metrics.best_of_m(p1),
        "most_likely_p1": p1[np.arange(len(gt)), metrics.most_likely_kernel(weights)],
        "mixture_mean_p1": metrics.mpjpe(mean_pose, gt),
    }
    if procrustes:
        errors["best_p2"] = metrics.best_of_m(metrics.p_mpjpe(hypotheses, gt[:, None]))
    return errors


def action_table(errors, actions):
    """Per-action means of per-frame errors (mm) and the reported figure (their unweighted mean).

    actions: (N,) action names (the two recordings of a Human3.6M action share one name).

    Returns {"per_action": {action: mm}, "average": the unweighted mean over actions,
    "all_frames": the mean over frames}.
    """
    per_action = metrics.per_action_table(errors, actions)
    return {"per_action": per_action, "average": metrics.average_over_actions(per_action),
            "all_frames": float(np.mean(errors))}


def format_results(results):
    """The `test` command's printout: the per-action table, then the other figures."""
    if results.get("kind") == "flow":
        return _format_sample_results(results)
    m = results["num_kernels"]
    columns = {"P1 (mm)": results["p1"]["per_action"]}
    if "p2" in results:
        columns["P2 (mm)"] = results["p2"]["per_action"]
    hidden = results.get("miss_num", 0)
    heading = f"best of {m} hypothes{'is' if m == 1 else 'es'}, {results['frames']} test frames"
    if "data" in results:
        heading += f" of {results['data']}"
    if hidden:
        heading += f", {hidden} limb joint{'s' if hidden > 1 else ''} hidden per frame"
    return "\n".join([
        heading,
        metrics.format_table(columns),
        f"most likely kernel P1: {results['most_likely_p1']['average']:.1f} mm   "
        f"mixture mean P1: {results['mixture_mean_p1']['average']:.1f} mm",
        f"NLL: {_number(results['nll'], '.2f')} (normalised units, D = 48)   "
        f"kernels above {KERNEL_USED:.0%}: {results['kernel_usage']:.2f} of {m}   "
        f"calibration ECE: {_number(results['calibration_ece'], '.3f')}",
    ])


def _format_sample_results(results):
    """`format_results` for a flow: its samples' figures."""
    m = results["num_kernels"]
    columns = {"P1 (mm)": results["p1"]["per_action"]}
    if "p2" in results:
        columns["P2 (mm)"] = results["p2"]["per_action"]
    heading = f"best of {m} samples, {results['frames']} random test frames"
    if "data" in results:
        heading += f" of {results['data']}"
    if results.get("miss_num"):
        heading += f", {results['miss_num']} limb joints hidden per frame"
    best_of = "   ".join(f"{k}: {v:.1f}" for k, v in results["best_of"].items())
    return "\n".join([
        heading,
        metrics.format_table(columns),
        f"best of M samples P1 (mm), M = {best_of}",
        f"one sample P1: {results['most_likely_p1']['average']:.1f} mm   "
        f"mean of {m} samples P1: {results['mixture_mean_p1']['average']:.1f} mm   "
        f"calibration ECE of the samples: {results['calibration_ece']:.3f}",
    ])


def save_sample_figures(model, prepared, out_dir, num=20, seed=0):
    """The original `--sample`: for `num` random test frames, a PNG of the 2D input, the ground
    truth and the M hypotheses (a flow's: `inference.FLOW_HYPOTHESES` samples as one cloud,
    `viz.plot_samples`). Returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    count = len(prepared.test_2d)
    frames = np.sort(np.random.default_rng(seed).choice(count, size=min(num, count), replace=False))
    result = inference.predict_normalized(model, prepared.test_2d[frames])
    poses_2d = prepared.normalizer.denormalize_2d(prepared.test_2d[frames])
    info = prepared.test_info
    paths = []
    for i, k in enumerate(frames):
        subject, sequence, camera, frame = (info[key][k] for key in ("subject", "sequence", "camera", "frame"))
        title = f"{subject} {sequence}, camera {camera}, frame {frame}"
        if result.sigmas is None:
            fig = viz.plot_samples(poses_2d[i], prepared.test_3d_mm[k], result.hypotheses[i], title=title)
        else:
            fig = viz.plot_hypotheses(poses_2d[i], prepared.test_3d_mm[k], result.hypotheses[i],
                                      result.weights[i], sigmas=result.sigmas[i], title=title)
        path = out_dir / f"sample_{i:02d}_{subject}_{sequence}_{camera}_{frame}.png".replace(" ", "_")
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths


def _number(value, spec):
    return "n/a" if value is None else format(value, spec)


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
