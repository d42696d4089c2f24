"""Handler mixins: :class:`~torngas.mixins.flash_message.FlashMessageMixIn`."""
