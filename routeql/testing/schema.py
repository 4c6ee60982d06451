"""The fixture schema as pydantic models: parsed YAML/JSON data in, validated cases out.

Types are strict (``"yes"`` is not a boolean, ``1`` is not a name) and unknown keys are
errors, because a misspelt ``expct:`` that silently asserted nothing would be the worst
kind of test.  Rules between fields (``consent`` or ``consent_states``, not both) are
checked by :mod:`routeql.testing.fixtures`, which knows the lines to point at.
docs/cli/test.md documents every field.

>>> case = CaseModel.model_validate({"name": "a page", "event": {"type": "page"},
...                                  "expect": {"amplitude": True}})
>>> case.expect["amplitude"].delivered
True
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictBool, StrictStr, field_validator

__all__ = [
    "STAGES", "ReasonModel", "FieldsModel", "ExpectModel", "StateModel", "DefaultsModel",
    "CaseModel", "FileModel",
]

#: The stages a skipped destination's reason can name (:class:`routeql.result.Reason`).
STAGES = ("plan", "integrations", "consent", "when", "sample", "policy")

_STRICT = ConfigDict(extra="forbid", strict=True)


class ReasonModel(BaseModel):
    """Why a destination was skipped; every given key must match."""

    model_config = _STRICT

    stage: Literal["plan", "integrations", "consent", "when", "sample", "policy"] | None = None
    #: a substring of the deciding statement's text, e.g. "requires advertising"
    rule: StrictStr | None = None
    #: the denied consent category (one of them, for `requires any of`)
    category: StrictStr | None = None
    #: a substring of the deciding policy's name
    policy: StrictStr | None = None
    #: a substring of the sentence the reason gives, e.g. "sample"
    detail: StrictStr | None = None


class FieldsModel(BaseModel):
    """Checks on single fields of the delivered payload (paths as in rules: a.b, a[0].b)."""

    model_config = _STRICT

    present: list[StrictStr] = Field(default_factory=list)
    absent: list[StrictStr] = Field(default_factory=list)
    equal: dict[str, Any] = Field(default_factory=dict)
    hashed: list[StrictStr] = Field(default_factory=list)
    redacted: list[StrictStr] = Field(default_factory=list)
    truncated: list[StrictStr] = Field(default_factory=list)

    def paths(self) -> list[tuple[str, int | str, str]]:
        """(check, index or key, path) for every path named, to validate them all."""
        out: list[tuple[str, int | str, str]] = []
        for check in ("present", "absent", "hashed", "redacted", "truncated"):
            out.extend((check, i, p) for i, p in enumerate(getattr(self, check)))
        out.extend(("equal", p, p) for p in self.equal)
        return out


class ExpectModel(BaseModel):
    """What one destination should see.  ``google_ads: true`` is short for ``delivered: true``."""

    model_config = _STRICT

    delivered: StrictBool | None = None
    reason: ReasonModel | None = None
    #: the exact payload (compared as JSON: 1 = 1.0, but true is not 1)
    payload: dict[str, Any] | None = None
    fields: FieldsModel | None = None

    @field_validator("payload", mode="before")
    @classmethod
    def _payload_object(cls, v: Any) -> Any:
        if v is not None and not isinstance(v, dict):
            raise ValueError("a payload is an object (the event as the destination receives it)")
        return v


def _bool_shorthand(v: Any) -> Any:
    return {"delivered": v} if isinstance(v, bool) else v


class StateModel(BaseModel):
    """One consent state of ``consent_states``, optionally named and with its own expectations."""

    model_config = _STRICT

    consent: dict[str, StrictBool]
    name: StrictStr | None = None
    #: per destination, replaces the case's expectation for this state only
    expect: dict[str, ExpectModel] = Field(default_factory=dict)

    @field_validator("expect", mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {k: _bool_shorthand(x) for k, x in v.items()} if isinstance(v, dict) else v


def _plain_state(v: Any) -> Any:
    # A plain mapping of category -> bool is the short form of {consent: {...}}.
    if isinstance(v, dict) and "consent" not in v:
        return {"consent": v}
    return v


def _combinations(v: Any) -> Any:
    if v is None or v == "all":
        return v
    if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
        return v
    raise ValueError("should be `all` or a non-empty list of consent category names")


class _StatesMixin(BaseModel):
    """``consent_states`` (a list of states) and ``consent_combinations`` (all 2^n states)."""

    consent_states: list[StateModel] | None = None
    #: every combination of these categories granted/denied (``all``: every declared category)
    consent_combinations: Annotated[Literal["all"] | list[str] | None, PlainValidator(_combinations)] = None

    @field_validator("consent_states", mode="before")
    @classmethod
    def _states(cls, v: Any) -> Any:
        return [_plain_state(x) for x in v] if isinstance(v, list) else v


class DefaultsModel(_StatesMixin):
    """File-level defaults, applied to every case that does not say otherwise."""

    model_config = _STRICT

    #: merged under each case's event (the case wins, key by key, at every depth)
    event: dict[str, Any] | None = None
    consent: dict[str, StrictBool] | None = None
    others: Literal["skipped", "any"] | None = None


class CaseModel(_StatesMixin):
    """One test case: an event, a consent state (or several), and what should happen."""

    model_config = _STRICT

    name: StrictStr
    description: StrictStr | None = None
    event: dict[str, Any] | None = None
    event_file: StrictStr | None = None
    consent: dict[str, StrictBool] | None = None
    expect: dict[str, ExpectModel] = Field(default_factory=dict)
    only_destinations: list[StrictStr] | None = None
    others: Literal["skipped", "any"] | None = None
    #: true, or the reason, to skip the case (reported as skipped, like opa's todo_)
    skip: StrictBool | StrictStr = False

    @field_validator("expect", mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {k: _bool_shorthand(x) for k, x in v.items()} if isinstance(v, dict) else v


class FileModel(BaseModel):
    """A whole fixture file in its mapping form (a bare list is ``{cases: [...]}``)."""

    model_config = _STRICT

    #: the rule set, relative to this file (used by the pytest plugin; the CLI's RULES wins)
    rules: StrictStr | None = None
    defaults: DefaultsModel | None = None
    cases: list[CaseModel]
