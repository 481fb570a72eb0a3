"""Read a fitted estimator's training curves and judge its learning rate.

:func:`diagnose` looks at what ``fit`` recorded and says, as a verdict and
in words, whether the learning rate looks too large, too small or right,
with a concrete change to try.
"""

import dataclasses

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from sklr._base import BaseSKLR
from sklr._engine import MAX_BACKOFFS

__all__ = ["Diagnosis", "diagnose"]

# An epoch whose loss rose by more than this share of the previous epoch's is a
# rise; shares of a loss below RISE_FLOOR times the first epoch's are taken of
# that floor instead, so that jitter of a loss near zero is no rise.
RISE = 0.05
RISE_FLOOR = 0.1
# This many rises is oscillation.
MIN_RISES = 2
# Share of the epochs whose loss fell, for a decline to count as monotone.
MONOTONE = 0.9
# A loss that fell by less than this share of its first value, or by less than
# NOISE_MULTIPLE times its typical change between epochs, made no progress.
NO_PROGRESS = 0.01
NOISE_MULTIPLE = 3
# Still falling at this share of the run's average pace over its last tenth is a
# steady decline.
STEADY = 0.25
# A run whose last quarter lowered the best loss by less than this share has
# levelled off; rises of more than NOISY_TAIL of the loss in its second half are
# jitter.
LEVELLED = 0.02
NOISY_TAIL = 0.01
# A best loss below this share of the objective's scale is zero: nothing to fit.
ZERO_LOSS = 1e-12
# A final loss this many times the best one ended far above it.
FAR_ABOVE_BEST = 2.0
# A run cut short by max_iter whose last quarter lowered the best loss by at
# least this share was still falling.
STILL_FALLING = 0.25


@dataclasses.dataclass
class Diagnosis:
    """The outcome of :func:`diagnose`; ``str()`` gives the message.

    Attributes
    ----------
    verdict : {"converged", "too_high", "too_low", "plateau", "diverged"}
        What the training curves say about the learning rate.
    message : str
        One paragraph, in plain words, on what in the curves led to the
        verdict.
    suggestion : str
        A concrete change to try.
    evidence : dict
        The numbers the rules read (see :func:`diagnose`).
    """

    verdict: str
    message: str
    suggestion: str
    evidence: dict

    def __str__(self):
        return self.message


def _rate(value):
    """A learning rate rounded to one significant digit, for suggestions."""
    return f"{float(f'{value:.1g}'):g}"


def _percent(share):
    """A share as a percentage with two significant digits (tiny ones too)."""
    return f"{share * 100:.2g}%"


def _plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def _evidence(estimator):
    """The numbers the rules of :func:`diagnose` read."""
    curve = np.asarray(estimator.loss_curve_, dtype=float)
    curve = curve[np.isfinite(curve)]
    rates = np.asarray(estimator.learning_rate_curve_, dtype=float)
    scores = estimator.validation_scores_
    evidence = {
        "n_epochs": int(estimator.n_iter_),
        "hit_max_iter": bool(estimator.n_iter_ >= estimator.max_iter),
        "n_divergences": int(estimator.n_divergences_),
        # what the fit did, not what on_divergence says now
        "stopped_by_divergence": estimator._record.status == "diverged",
        "learning_rate": float(estimator.learning_rate_),
        # a schedule (not a back-off) that already lowers the rate a lot
        "decaying_schedule": bool(estimator.n_divergences_ == 0 and len(rates)
                                  and rates[-1] < 0.5 * rates.max()),
        "best_validation_epoch": int(np.argmax(scores)) + 1 if scores else None,
        "first_loss": float(curve[0]) if len(curve) else np.nan,
        # the initial weights' loss on the training data (NaN if unknown)
        "initial_loss": float(estimator._record.initial_loss),
        "best_loss": float(curve.min()) if len(curve) else np.nan,
        "final_loss": float(curve[-1]) if len(curve) else np.nan,
        "n_finite_epochs": len(curve),
        "n_rises": 0, "worst_rise": None, "falling_share": 0.0,
        "relative_fall": 0.0, "typical_change": 0.0, "late_pace": 0.0, "late_gain": 0.0,
        "late_fall": 0.0,
        "tail_noise": 0.0,
    }
    if len(curve) < 3:
        return evidence
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.maximum(curve[:-1], RISE_FLOOR * curve[0])
        # losses are >= 0; a change from a zero loss counts as none
        changes = np.nan_to_num(np.diff(curve) / scale, nan=0.0, posinf=0.0)
    rises = np.flatnonzero(changes > RISE)
    worst = int(np.argmax(changes))
    late = max(1, (len(curve) - 1) // 10)
    average_pace = (curve[0] - curve[-1]) / (len(curve) - 1)
    late_pace = (curve[-1 - late] - curve[-1]) / late
    quarter = max(1, len(curve) // 4)
    late_best = curve[-quarter:].min()
    evidence.update(
        n_rises=len(rises),
        # (epoch, loss before, loss after) of the largest rise
        worst_rise=(worst + 2, float(curve[worst]), float(curve[worst + 1])),
        falling_share=float((changes < 0).mean()),
        relative_fall=float(1 - curve.min() / curve[0]) if curve[0] > 0 else 0.0,
        typical_change=float(np.median(np.abs(changes))),
        late_pace=float(late_pace / average_pace) if average_pace > 0 else 0.0,
        late_gain=float((curve[:-quarter].min() - late_best) / late_best)
        if late_best > 0 else 0.0,
        # the same fall as a share of the floor a rise is measured against
        late_fall=float((curve[:-quarter].min() - late_best)
                        / max(late_best, RISE_FLOOR * curve[0]))
        if curve[0] > 0 else 0.0,
        tail_noise=float(max(changes[len(changes) // 2:].max(), 0.0)),
    )
    return evidence


def diagnose(estimator):
    """Judge the learning rate of a fitted estimator from its training curves.

    It reads ``loss_curve_``, ``n_divergences_``, ``n_iter_``, ``max_iter``,
    ``learning_rate_``, ``learning_rate_curve_`` and ``validation_scores_``.
    A *rise* is an epoch whose loss is more than 5% above the previous
    epoch's (for a loss below a tenth of the first epoch's, 5% of that
    tenth: jitter of a loss near zero does not count). The rules, first
    match wins:

    1. ``"diverged"``: the loss blew up and training stopped there (as the
       fit's ``on_divergence`` said, or after more back-offs than the engine
       allows), or the last epoch's loss is more than 5% above the first's.
    2. ``"converged"``: the loss is zero (a target fitted exactly, such as
       a constant one): the learning rate has nothing to change.
    3. ``"too_high"``: the loss blew up and training backed off (the rate
       was divided by 10 and training went on), the best epoch's loss is
       more than twice that of the initial weights (every epoch left the
       model worse than it started), the last epoch's loss is more than
       twice the best one (late steps too large), or the loss oscillates:
       two or more rises.
    4. ``"too_low"``: fewer than 3 epochs ran (too few to level off); or
       the loss fell by less than 1% in all, or by less than three times
       its typical change between epochs (steps too small to make progress,
       even if ``tol`` then stopped training); or it fell in at
       least 90% of the epochs and still fell over the last tenth of the run
       at a quarter or more of the run's average pace, with the run cut
       short by ``max_iter`` or by ``tol`` on the training loss (not by a
       validation score, where a falling training loss is expected).
    5. ``"plateau"``: the loss levelled off (the last quarter of the run
       lowered the best loss by less than 2%) but does not settle: in the
       second half of the run it still goes up by more than 1% from one
       epoch to the next, so the steps are too large to reach the minimum.
    6. ``"too_low"``: ``max_iter`` ended a run whose last quarter still
       lowered the best loss by 25% or more (of a tenth of the first
       epoch's loss, if the loss is below that: a loss falling towards zero
       is no sign of a slow rate), a decline that slows, as a geometric one
       does.
    7. ``"converged"``: otherwise; the loss fell and flattened out.

    The suggestion scales the rate in effect at the end
    (``learning_rate_``): by 1/10 after a divergence or a loss above the
    initial one, 1/3 for oscillation or
    a plateau, 3 for a loss still falling at ``max_iter``, 10 for a steady
    decline and 100 for no progress; after
    back-offs it keeps the rate training backed off to. For a plateau it
    suggests a decaying schedule unless the rate already decays.

    Parameters
    ----------
    estimator : fitted sklr estimator or Pipeline
        A fitted sklr estimator, or a fitted Pipeline whose last step is
        one (that step is diagnosed).

    Returns
    -------
    diagnosis : Diagnosis
        ``verdict``, ``message``, ``suggestion`` and ``evidence``;
        ``str(diagnosis)`` is the message.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If it is neither an sklr estimator nor a Pipeline ending in one.

    See Also
    --------
    sklr.lr_finder.lr_range_test : Find a good learning rate before fitting.

    Examples
    --------
    >>> import textwrap, warnings
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklr import LogisticClassifier
    >>> from sklr.diagnostics import diagnose
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> for rate in [1e-6, 0.1, 30.0]:
    ...     with warnings.catch_warnings():
    ...         warnings.simplefilter("ignore")  # ConvergenceWarning at 1e-6
    ...         model = LogisticClassifier(optimizer="sgd", learning_rate=rate,
    ...                                    max_iter=50, random_state=0).fit(X, y)
    ...     diagnosis = diagnose(model)
    ...     print(f"{rate:g} -> {diagnosis.verdict}: {diagnosis.suggestion}")
    ...     print(textwrap.fill(str(diagnosis), 72))
    1e-06 -> too_low: try learning_rate around 0.0001, or learning_rate='auto'
    The loss barely moved: it fell by only 0.0096% in all over 12 epochs. At
    learning rate 1e-06 the steps are too small to make progress.
    0.1 -> converged: keep learning_rate; a decaying schedule such as 'cosine' may gain a little
    The loss fell from 0.5568 to 0.09185 over 50 epochs and flattened out;
    training reached max_iter improving only slowly. Learning rate 0.1 looks
    right.
    30 -> too_high: try learning_rate around 10
    The loss oscillates: it went up in 10 of 50 epochs, at worst from 0.123
    to 0.2186 in epoch 32, instead of falling steadily. At learning rate 30
    the steps overshoot.
    """
    while isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    if not isinstance(estimator, BaseSKLR):
        raise ValueError(
            "diagnose needs a fitted sklr estimator or a Pipeline whose last step "
            f"is one, got {type(estimator).__name__}."
        )
    check_is_fitted(estimator, "loss_curve_")
    evidence = _evidence(estimator)
    return Diagnosis(*_judge(estimator, evidence), evidence)


def _judge(estimator, e):
    """Apply the rules of :func:`diagnose` in order.

    Returns ``(verdict, message, suggestion)``.
    """
    lr = e["learning_rate"]
    epochs = _plural(e["n_epochs"], "epoch")
    if e["n_divergences"] and (e["stopped_by_divergence"]
                               or e["n_divergences"] > MAX_BACKOFFS
                               or np.isnan(e["final_loss"])):
        return (
            "diverged",
            f"Training diverged: the loss blew up at learning rate {lr:.3g} and "
            f"training stopped in epoch {e['n_epochs'] + 1}, keeping the last good "
            "weights.",
            f"try learning_rate around {_rate(lr / 10)}",
        )
    # a flat loss jitters above its first value: only a real rise counts
    if e["final_loss"] > (1 + RISE) * e["first_loss"]:
        return (
            "diverged",
            f"The loss rose from {e['first_loss']:.4g} in the first epoch to "
            f"{e['final_loss']:.4g} after {epochs}: training made the model worse.",
            f"try learning_rate around {_rate(lr / 10)}",
        )
    if e["best_loss"] <= ZERO_LOSS * max(e["first_loss"], estimator._loss_scale):
        return (
            "converged",
            f"The loss is {e['best_loss']:.3g}: the model fits the training data "
            "exactly (a constant target, for instance), so there is nothing for "
            "the learning rate to change.",
            "keep learning_rate",
        )
    if e["n_divergences"]:
        backoffs = e["n_divergences"]
        what = ("training restored the last good weights and divided the "
                "learning rate by 10" if backoffs == 1 else
                f"{backoffs} times; each time training restored the last good "
                "weights and divided the learning rate by 10")
        # still oscillating at the backed-off rate: go lower still
        target = lr / 3 if e["n_rises"] >= MIN_RISES else lr
        return (
            "too_high",
            f"The loss blew up{' once' if backoffs == 1 else ''}: {what}, from "
            f"{lr * 10 ** backoffs:.3g} to {lr:.3g}. The starting rate was too "
            "large.",
            f"try learning_rate around {_rate(target)}",
        )
    if e["best_loss"] > FAR_ABOVE_BEST * e["initial_loss"] > 0:
        return (
            "too_high",
            f"The loss never came near that of the initial weights: "
            f"{e['best_loss']:.4g} at best, against {e['initial_loss']:.4g} before "
            f"training. At learning rate {lr:.3g} every epoch left the model worse "
            "than it started.",
            f"try learning_rate around {_rate(lr / 10)}",
        )
    if e["final_loss"] > FAR_ABOVE_BEST * e["best_loss"] > 0:
        best_epoch = int(np.argmin(estimator.loss_curve_)) + 1
        return (
            "too_high",
            f"The loss ended at {e['final_loss']:.4g}, "
            f"{e['final_loss'] / e['best_loss']:.3g} times its best "
            f"({e['best_loss']:.4g} in epoch {best_epoch}): late in training the "
            f"steps at learning rate {lr:.3g} undid the progress.",
            f"try learning_rate around {_rate(lr / 3)}, or a decaying schedule "
            "such as 'cosine'",
        )
    if e["n_finite_epochs"] < 3:
        return (
            "too_low",
            f"Only {epochs} ran: too few to see whether the loss levels off.",
            "increase max_iter, or the learning rate",
        )
    if e["n_rises"] >= MIN_RISES:
        epoch, before, after = e["worst_rise"]
        return (
            "too_high",
            f"The loss oscillates: it went up in {e['n_rises']} of {epochs}, at "
            f"worst from {before:.4g} to {after:.4g} in epoch {epoch}, instead of "
            f"falling steadily. At learning rate {lr:.3g} the steps overshoot.",
            f"try learning_rate around {_rate(lr / 3)}",
        )
    if e["relative_fall"] < max(NO_PROGRESS, NOISE_MULTIPLE * e["typical_change"]):
        return (
            "too_low",
            f"The loss barely moved: it fell by only {_percent(e['relative_fall'])} "
            f"in all over {epochs}"
            + ("" if e["relative_fall"] < NO_PROGRESS else
               ", hardly more than it goes up and down between epochs")
            + f". At learning rate {lr:.3g} the steps are too small to make "
            "progress.",
            f"try learning_rate around {_rate(lr * 100)}, or learning_rate='auto'",
        )
    # with validation monitoring, stopping while the training loss still falls
    # is early stopping at work, not a slow rate
    cut_short = e["hit_max_iter"] or estimator.validation_scores_ is None
    if e["falling_share"] >= MONOTONE and cut_short and e["late_pace"] >= STEADY:
        return (
            "too_low",
            f"The loss was still falling steadily when training stopped after "
            f"{epochs}: over the last tenth of the run at {_percent(e['late_pace'])} of "
            f"its average pace, with no sign of levelling off. Learning rate "
            f"{lr:.3g} is too small for this number of epochs.",
            f"try learning_rate around {_rate(lr * 10)}, or a larger max_iter",
        )
    if e["late_gain"] < LEVELLED and e["tail_noise"] > NOISY_TAIL:
        suggestion = f"try learning_rate around {_rate(lr / 3)}"
        if not e["decaying_schedule"]:
            suggestion = f"use a decaying schedule such as 'cosine', or {suggestion}"
        return (
            "plateau",
            f"The loss levelled off at about {e['final_loss']:.4g} but does not "
            "settle: late in training it still goes up from one epoch to the "
            f"next, by as much as {_percent(e['tail_noise'])} in the second half "
            f"of the run. At learning rate {lr:.3g} the steps are too large to "
            "settle into the minimum.",
            suggestion,
        )
    if e["hit_max_iter"] and e["late_fall"] >= STILL_FALLING:
        return (
            "too_low",
            f"The loss was still falling when training reached max_iter after "
            f"{epochs}: its last quarter lowered it by {_percent(e['late_gain'])}, "
            f"to {e['best_loss']:.4g}. At learning rate {lr:.3g} training needs "
            "more epochs than it had.",
            f"try learning_rate around {_rate(lr * 3)}, or a larger max_iter",
        )
    if e["best_validation_epoch"] is not None and not e["hit_max_iter"]:
        shape = (f"; training stopped when the validation score no longer "
                 f"improved (it peaked in epoch {e['best_validation_epoch']})")
    elif e["hit_max_iter"]:
        shape = " and flattened out; training reached max_iter improving only slowly"
    else:
        shape = " and flattened out smoothly; training stopped once it no longer improved"
    return (
        "converged",
        f"The loss fell from {e['first_loss']:.4g} to {e['best_loss']:.4g} over "
        f"{epochs}{shape}. Learning rate {lr:.3g} looks right.",
        "keep learning_rate" if e["decaying_schedule"] else
        "keep learning_rate; a decaying schedule such as 'cosine' may gain a little",
    )
