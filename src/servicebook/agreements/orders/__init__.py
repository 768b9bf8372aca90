"""Customer orders (issue 15): a customer user orders an offering on its agreement; above the
requester's authority an approver of its own organization decides; an approved order becomes an
agreement line from the next period (decision 0017)."""
