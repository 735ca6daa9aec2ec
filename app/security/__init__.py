"""Security: the FAB security manager subclass and the roles, declared as data."""
