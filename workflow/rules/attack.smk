# attack stage (to be built).


def attack_targets():
    return []
