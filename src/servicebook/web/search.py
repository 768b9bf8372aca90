"""The search box's results page, ``/search/?q=TEXT`` (issue 15).

Each domain app offers its searchable objects through ``ports.search_sources`` (customers,
contacts, agreements, tickets, invoices, statements, changes, demands, improvements); every
source searches only what the user may see (``visible_to``) and shows no cost. Results come
grouped by kind, a few per kind, with a link to the kind's list page filtered by the same text.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from servicebook import ports
from servicebook.core.search import MAX_QUERY

#: Results shown per kind; the kind's list page has them all.
PER_KIND = 10


@login_required
def search(request):
    text = request.GET.get("q", "").strip()
    groups = []
    problem = ""
    if not text:
        problem = "Type a number, a name or a few words to search for."
    elif len(text) > MAX_QUERY:
        problem = f"Search for at most {MAX_QUERY} characters (you typed {len(text)})."
    elif "\x00" in text:
        problem = "The search text holds a character that cannot be searched for."
    else:
        for sources in ports.search_sources:
            for source in sources:
                hits = source.find(request.user, text, PER_KIND + 1)
                if not hits:
                    continue
                more = ""
                if len(hits) > PER_KIND and source.more:
                    more = f"{reverse(source.more)}?{urlencode({'q': text})}"
                groups.append({"kind": source.kind, "hits": hits[:PER_KIND], "more": more})
    status = 400 if problem and text else 200
    return render(
        request,
        "web/search.html",
        {"q": text[:MAX_QUERY], "groups": groups, "problem": problem},
        status=status,
    )
