"""What gunicorn and `flask` load: `gunicorn -c config/gunicorn.conf.py app:app`."""

from bridge import create_app

app = create_app()
