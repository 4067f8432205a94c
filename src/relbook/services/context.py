"""The bundle of services over one open book — what the UI and the CLI talk to.

Services are created on first use so that start-up imports only what the first screen
needs (read-only services use ``sqlite3``; write services pull in SQLAlchemy).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from relbook.domain.clock import Clock
from relbook.services.changes import ChangeBus
from relbook.storage.book import Book

if TYPE_CHECKING:
    from relbook.credentials import SecretStore
    from relbook.services.accounts import AccountService
    from relbook.services.affiliations import AffiliationService
    from relbook.services.companies import CompanyService
    from relbook.services.contacts import ContactService
    from relbook.services.deals import DealService
    from relbook.services.dedupe import DedupeService
    from relbook.services.demo import DemoService
    from relbook.services.feedback import FeedbackService
    from relbook.services.fields import FieldService
    from relbook.services.file_import import FileImportService
    from relbook.services.insight import InsightService
    from relbook.services.interactions import InteractionService
    from relbook.services.lists import ListService
    from relbook.services.maintenance import MaintenanceService
    from relbook.services.merge import MergeService
    from relbook.services.messages import MessageService
    from relbook.services.myday import MyDayService
    from relbook.services.notes import NoteService
    from relbook.services.people import PeopleService
    from relbook.services.pipelines import PipelineService
    from relbook.services.relink import RelinkService
    from relbook.services.review import ReviewService
    from relbook.services.search import SearchService
    from relbook.services.settings import SettingsService
    from relbook.services.sharing import SharingService
    from relbook.services.sync import SyncService
    from relbook.services.tags import TagService
    from relbook.services.tasks import TaskService
    from relbook.services.team import TeamService
    from relbook.services.timeline import TimelineService
    from relbook.services.views import SavedViewService


class Services:
    def __init__(self, book: Book, clock: Clock) -> None:
        self.book = book
        self.clock = clock
        self.changes = ChangeBus()

    def close(self) -> None:
        self.book.close()

    # Reached by the UI thread outside its reads and writes (to hand a method to the task
    # runner, or from a timer): imported here first, off the UI thread.
    WARM = ("settings", "people", "companies", "deals", "tasks", "notes", "interactions",
            "search", "lists", "timeline", "insight", "myday", "review", "maintenance",
            "relink", "accounts", "sync", "sharing")  # fmt: skip

    def warm_up(self) -> None:
        """Import and connect the write path, and the services the UI thread reaches, ahead
        of need (call off the UI thread). The app's first paint loads only the sqlite3 read
        path; a service first reached on the UI thread would import SQLAlchemy there — or
        wait, frozen, on the import lock while a worker imports it (1.1 s on a big book)."""
        self.book.warm_up()
        for name in self.WARM:
            getattr(self, name)

    @cached_property
    def settings(self) -> SettingsService:
        from relbook.services.settings import SettingsService

        return SettingsService(self)

    @cached_property
    def people(self) -> PeopleService:
        from relbook.services.people import PeopleService

        return PeopleService(self)

    @cached_property
    def companies(self) -> CompanyService:
        from relbook.services.companies import CompanyService

        return CompanyService(self)

    @cached_property
    def affiliations(self) -> AffiliationService:
        from relbook.services.affiliations import AffiliationService

        return AffiliationService(self)

    @cached_property
    def pipelines(self) -> PipelineService:
        from relbook.services.pipelines import PipelineService

        return PipelineService(self)

    @cached_property
    def deals(self) -> DealService:
        from relbook.services.deals import DealService

        return DealService(self)

    @cached_property
    def tasks(self) -> TaskService:
        from relbook.services.tasks import TaskService

        return TaskService(self)

    @cached_property
    def notes(self) -> NoteService:
        from relbook.services.notes import NoteService

        return NoteService(self)

    @cached_property
    def interactions(self) -> InteractionService:
        from relbook.services.interactions import InteractionService

        return InteractionService(self)

    @cached_property
    def tags(self) -> TagService:
        from relbook.services.tags import TagService

        return TagService(self)

    @cached_property
    def fields(self) -> FieldService:
        from relbook.services.fields import FieldService

        return FieldService(self)

    @cached_property
    def feedback(self) -> FeedbackService:
        from relbook.services.feedback import FeedbackService

        return FeedbackService(self)

    @cached_property
    def views(self) -> SavedViewService:
        from relbook.services.views import SavedViewService

        return SavedViewService(self)

    @cached_property
    def search(self) -> SearchService:
        from relbook.services.search import SearchService

        return SearchService(self)

    @cached_property
    def lists(self) -> ListService:
        from relbook.services.lists import ListService

        return ListService(self)

    @cached_property
    def timeline(self) -> TimelineService:
        from relbook.services.timeline import TimelineService

        return TimelineService(self)

    @cached_property
    def contacts(self) -> ContactService:
        from relbook.services.contacts import ContactService

        return ContactService(self)

    @cached_property
    def merge(self) -> MergeService:
        from relbook.services.merge import MergeService

        return MergeService(self)

    @cached_property
    def dedupe(self) -> DedupeService:
        from relbook.services.dedupe import DedupeService

        return DedupeService(self)

    @cached_property
    def insight(self) -> InsightService:
        from relbook.services.insight import InsightService

        return InsightService(self)

    @cached_property
    def myday(self) -> MyDayService:
        from relbook.services.myday import MyDayService

        return MyDayService(self)

    @cached_property
    def maintenance(self) -> MaintenanceService:
        from relbook.services.maintenance import MaintenanceService

        return MaintenanceService(self)

    @cached_property
    def demo(self) -> DemoService:
        from relbook.services.demo import DemoService

        return DemoService(self)

    @cached_property
    def review(self) -> ReviewService:
        from relbook.services.review import ReviewService

        return ReviewService(self)

    @cached_property
    def relink(self) -> RelinkService:
        from relbook.services.relink import RelinkService

        return RelinkService(self)

    @cached_property
    def messages(self) -> MessageService:
        from relbook.services.messages import MessageService

        return MessageService(self)

    @cached_property
    def file_import(self) -> FileImportService:
        from relbook.services.file_import import FileImportService

        return FileImportService(self)

    @cached_property
    def secrets(self) -> SecretStore:
        """Account passwords: the OS keyring, or this session only (tests assign one)."""
        from relbook.credentials import open_secret_store

        return open_secret_store()

    @cached_property
    def accounts(self) -> AccountService:
        from relbook.services.accounts import AccountService

        return AccountService(self)

    @cached_property
    def sync(self) -> SyncService:
        from relbook.services.sync import SyncService

        return SyncService(self)

    @cached_property
    def sharing(self) -> SharingService:
        from relbook.services.sharing import SharingService

        return SharingService(self)

    @cached_property
    def team(self) -> TeamService:
        from relbook.services.team import TeamService

        return TeamService(self)
