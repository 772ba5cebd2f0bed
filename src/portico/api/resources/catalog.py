routers: dict = {}
