# summary stage (to be built).


def summary_targets():
    return []
