"""The Reflex user interface: shared state, components and one package per page."""
