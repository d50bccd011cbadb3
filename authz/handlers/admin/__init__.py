"""The admin API Lambda: ``authz.handlers.admin.app.handler``, one Router per resource."""
