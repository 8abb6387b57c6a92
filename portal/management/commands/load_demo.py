"""`python manage.py load_demo`: demo agencies, users and appeals; safe to run twice."""

from django.core.management.base import BaseCommand

from portal import demo


class Command(BaseCommand):
    help = "Load demo agencies, topics, one user per role and a few hundred appeals."

    def add_arguments(self, parser):
        parser.add_argument("--appeals", type=int, default=300)

    def handle(self, *args, appeals: int, **options):
        created = demo.load(appeals=appeals)
        self.stdout.write(
            "Demo data: created {agencies} agencies, {topics} topics, "
            "{users} users, {appeals} appeals.".format(**created)
        )
        self.stdout.write(f"Demo logins (password {demo.DEMO_PASSWORD}):")
        for username, role, agency, *_ in demo.USERS:
            self.stdout.write(f"  {username:<11} {role:<11} {agency}")
        self.stdout.write("  admin       superuser   (Django admin at /ky/admin/)")
        self.stdout.write(
            "Two-factor login of {users}: add the key {key} to an authenticator "
            "app (time-based, 6 digits), or use a backup code: {codes} (each works "
            "once; loading the demo again restores them).".format(
                users=", ".join(demo.DEMO_TWO_FACTOR_USERS),
                key=demo.DEMO_TOTP_SECRET,
                codes=", ".join(demo.DEMO_BACKUP_CODES),
            )
        )
        self.stdout.write(
            f"Demo API key (every scope, /api/v1/docs/): {demo.DEMO_API_KEY}"
        )
