# carbon stage (to be built).


def carbon_targets():
    return []
