"""British English formats, with ISO dates first among the input formats (``FORMAT_MODULE_PATH``).

A browser's date field (``<input type="date">``) takes and gives ``2026-11-30`` whatever the
user's locale: with Django's own first input format (``30/11/2026``) a date field would show
empty instead of its default. Typed dates in the British order keep being accepted."""

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
]
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
