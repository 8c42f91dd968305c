"""Exercise checks of notebooks 01-08: call the learner's function, compare with mdnlib.

Each `check_*` takes the learner's function, runs it on fixed inputs, compares the result with
the reference in `mdnlib` and either prints one line starting with "passed" or raises an
AssertionError whose message says what is probably wrong and how to fix it. A stub that still
raises a bare NotImplementedError gets one that names the exercise (nbgrader counts the error).
Both are raised from a short traceback (the check's call, then one frame of `helpers.exercise`),
so that a notebook and nbgrader's feedback show the message rather than mdnlib's internals.
An answer that calls the reference it is compared with (listed below) fails: the check could
not tell whether the learner can write it. A teacher can allow that with the environment
variable MDNLIB_ALLOW_REFERENCE=1 (`helpers.ALLOW_REFERENCE_ENV`). Notebooks call
`checks.check_*`; each check lives in the module of its notebook (`nb01` ... `nb08`), and what
they share in `helpers`.

| check | notebook | reference |
|---|---|---|
| `check_project` | 01 | `mdnlib.camera.Camera.project_camera` |
| `check_bone_candidates` | 01 | `mdnlib.toy.bone_candidates` |
| `check_root_centre` | 02 | `mdnlib.dataset.camera_frame_arrays` |
| `check_zscore` | 02 | `mdnlib.dataset.Normalizer` |
| `check_mpjpe` | 03 | `mdnlib.metrics.mpjpe` |
| `check_averaged_bone_length` | 03 | midpoint of `mdnlib.toy.bone_candidates` (which it may call) |
| `check_logsumexp_nll` | 04 | `mdnlib.losses.mixture_nll` |
| `check_sigma_activation` | 04 | ELU + 1 + floor, as in `mdnlib.toy.build_mdn_1d` (not watched) |
| `check_sample_mixture` | 04 | `mdnlib.toy.sample_mixture` |
| `check_mixture_head` | 05 | `mdnlib.models.MixtureHead` |
| `check_kernels_in_use` | 05 | `mdnlib.metrics.kernel_usage` |
| `check_procrustes` | 06 | `mdnlib.metrics.procrustes_align` |
| `check_best_and_most_likely` | 06 | `mdnlib.metrics.best_of_m` |
| `check_calibration_ece` | 06 | `mdnlib.metrics.coverage`, `expected_calibration_error` |
| `check_depth_spread` | 07 | `mdnlib.hypotheses.depth_spread` |
| `check_choose_multiview` | 07 | `mdnlib.hypotheses.choose_multiview` |
| `check_flow_path` | 08 | `mdnlib.models.flow_path` |
| `check_heun_step` | 08 | `mdnlib.models.heun_step` |
"""
from mdnlib.checks.nb01 import check_bone_candidates, check_project
from mdnlib.checks.nb02 import check_root_centre, check_zscore
from mdnlib.checks.nb03 import check_averaged_bone_length, check_mpjpe
from mdnlib.checks.nb04 import check_logsumexp_nll, check_sample_mixture, check_sigma_activation
from mdnlib.checks.nb05 import check_kernels_in_use, check_mixture_head
from mdnlib.checks.nb06 import check_best_and_most_likely, check_calibration_ece, check_procrustes
from mdnlib.checks.nb07 import check_choose_multiview, check_depth_spread
from mdnlib.checks.nb08 import check_flow_path, check_heun_step

__all__ = [
    "check_project", "check_bone_candidates",
    "check_root_centre", "check_zscore",
    "check_mpjpe", "check_averaged_bone_length",
    "check_logsumexp_nll", "check_sigma_activation", "check_sample_mixture",
    "check_mixture_head", "check_kernels_in_use",
    "check_procrustes", "check_best_and_most_likely", "check_calibration_ece",
    "check_depth_spread", "check_choose_multiview",
    "check_flow_path", "check_heun_step",
]
