"""The `acme.util.shout` filter: upper case and an exclamation mark."""


def shout(text):
    return str(text).upper() + "!"


class FilterModule:
    def filters(self):
        return {"shout": shout}
