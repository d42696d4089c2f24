import does_not_exist_anywhere  # noqa: F401
