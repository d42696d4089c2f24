raise RuntimeError("app module exploded")
